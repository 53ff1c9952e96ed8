"""Start, stop and steer a fake server from Python (tests, scripts).

    with Fake(tmpdir, profiles=200, token_lifetime=2) as fake:
        fake.touch("prod2", count=3)
        assert fake.calls("prod2", "search") == 0

The server runs as ``/usr/bin/python3 -m fakesprinklr`` in a subprocess whose
output goes to ``workdir/fake.log``; all control traffic is HTTPS verified
against the fake's own CA (or plain HTTP with tls=False).
"""

import http.client
import json
import os
import signal
import ssl
import subprocess
import threading
import time
from urllib.parse import quote

from fakesprinklr.config import TUNABLES

PYTHON = "/usr/bin/python3"
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ENVS = [("prod2", "sandbox-key", "sandbox-secret", "http://localhost:8123/sprinklr/callback")]
OPTIONS = ("token_lifetime", "cursor_lifetime", "code_lifetime", "rate_per_second",
           "rate_per_hour", "rate_window", "rate_limit_answer", "max_page_size",
           "max_page_size_answer", "latency", "seed",
           "expires_in_string")
# Tunables without a command-line flag are set through the control API once
# the server is up (and again after a restart).
RUNTIME_OPTIONS = tuple(name for name in TUNABLES if name not in OPTIONS)
START_TIMEOUT = 20.0


class FakeError(RuntimeError):
    """A control call failed or the server did not start."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class Fake:
    """One fake server process and a control client for it."""

    def __init__(self, workdir, envs=None, profiles=1000, tls=True, host="127.0.0.1", **options):
        unknown = set(options) - set(OPTIONS) - set(RUNTIME_OPTIONS)
        if unknown:
            raise TypeError("unknown Fake options: %s" % ", ".join(sorted(unknown)))
        self.workdir = os.path.abspath(str(workdir))
        self.envs = [tuple(e) for e in (envs or DEFAULT_ENVS)]
        if any(len(e) != 4 or ":" in "".join(e[:3]) for e in self.envs):
            raise ValueError("envs are (name, key, secret, redirect_uri); only the URI may hold ':'")
        self.profile_count = profiles
        self.tls = tls
        self.host = host
        self.options = options
        self.port = 0
        self.url = None
        self.ca_file = None
        self.proc = None
        self._conn = None
        self._lock = threading.Lock()

    # --- process -----------------------------------------------------------

    def _argv(self, ready):
        argv = [PYTHON, "-m", "fakesprinklr", "--host", self.host, "--port", str(self.port),
                "--profiles", str(self.profile_count), "--ready-file", ready]
        argv += ["--http"] if not self.tls else ["--tls-dir", os.path.join(self.workdir, "tls")]
        for env in self.envs:
            argv += ["--env", ":".join(env)]
        for name, value in self.options.items():
            if name in RUNTIME_OPTIONS:
                continue
            flag = "--" + name.replace("_", "-")
            if name == "expires_in_string":
                argv += [flag] if value else []
            else:
                argv += [flag, str(value)]
        return argv

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        ready = os.path.join(self.workdir, "fake.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        with open(os.path.join(self.workdir, "fake.log"), "ab") as log:
            self.proc = subprocess.Popen(self._argv(ready), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        info = self._wait_ready(ready)
        self.url, self.port, self.ca_file = info["url"], info["port"], info["ca_file"]
        runtime = {k: v for k, v in self.options.items() if k in RUNTIME_OPTIONS}
        if runtime:
            self.configure(**runtime)
        return self

    def _wait_ready(self, ready):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FakeError("fake exited with %s; see %s" % (self.proc.returncode, self.log_path()))
            if os.path.exists(ready):
                with open(ready) as f:
                    return json.load(f)
            time.sleep(0.02)
        self.stop()
        raise FakeError("fake did not start within %.0f s; see %s" % (START_TIMEOUT, self.log_path()))

    def log_path(self):
        return os.path.join(self.workdir, "fake.log")

    def stop(self):
        self._drop_connection()
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- addresses ---------------------------------------------------------

    def api_url(self, env):
        return self.url if env == "prod" else "%s/%s" % (self.url, env)

    def env(self, name):
        for env in self.envs:
            if env[0] == name:
                return dict(zip(("name", "key", "secret", "redirect_uri"), env))
        raise KeyError(name)

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def connect(self, timeout=30):
        """A new http.client connection to the fake."""
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ssl_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    # --- control calls -----------------------------------------------------

    def _drop_connection(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _exchange(self, method, path, data, headers):
        with self._lock:
            for attempt in (0, 1):
                fresh = self._conn is None
                if fresh:
                    self._conn = self.connect()
                try:
                    self._conn.request(method, path, body=data, headers=headers)
                    resp = self._conn.getresponse()
                    return resp.status, resp.read()
                except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                    self._drop_connection()
                    if fresh or attempt:
                        raise
        raise AssertionError("unreachable")

    def control(self, method, path, body=None, raw=False):
        """Call /_fake/{path}; JSON in, JSON (or bytes with raw=True) out."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if data is not None else {}
        status, payload = self._exchange(method, "/_fake/" + path.lstrip("/"), data, headers)
        if status >= 400:
            raise FakeError("%s /_fake/%s: %d %s" % (method, path, status,
                                                    payload.decode("utf-8", "replace")), status)
        return payload if raw else json.loads(payload)

    def counters(self):
        return self.control("GET", "counters")

    def reset_counters(self):
        self.control("POST", "counters/reset")

    def reset_limits(self):
        self.control("POST", "limits/reset")

    def calls(self, env=None, endpoint=None, status=None):
        """Number of counted API calls matching env, endpoint(s) and status."""
        endpoints = (endpoint,) if isinstance(endpoint, str) else endpoint
        total = 0
        for env_name, by_endpoint in self.counters()["calls"].items():
            if env is not None and env_name != env:
                continue
            for name, by_status in by_endpoint.items():
                if endpoints is not None and name not in endpoints:
                    continue
                total += sum(n for label, n in by_status.items()
                             if status is None or label == str(status))
        return total

    def transport(self):
        """{connections, handshakes, resumed, used} since the last reset: TCP
        connections accepted, TLS handshakes completed and how many of them
        resumed a session, distinct connections that carried counted calls."""
        return self.counters()["transport"]

    def gzipped(self, env=None, endpoint=None):
        """Number of API answers matching env and endpoint(s) sent gzip-encoded."""
        endpoints = (endpoint,) if isinstance(endpoint, str) else endpoint
        return sum(n for env_name, by_endpoint in self.counters()["gzip"].items()
                   if env is None or env_name == env
                   for name, n in by_endpoint.items()
                   if endpoints is None or name in endpoints)

    def _env_path(self, env, *rest):
        return "envs/%s/%s" % (quote(env, safe=""), "/".join(rest))

    def profiles(self, env):
        payload = self.control("GET", self._env_path(env, "profiles"), raw=True)
        return [json.loads(line) for line in payload.splitlines() if line.strip()]

    def profile(self, env, pid):
        try:
            return self.control("GET", self._env_path(env, "profiles", quote(pid, safe="")))
        except FakeError as err:
            if err.status == 404:
                return None
            raise

    def touch(self, env, count=None, ids=None):
        body = {"count": count} if ids is None else {"ids": list(ids)}
        return self.control("POST", self._env_path(env, "touch"), body)["ids"]

    def put_profile(self, env, profile, keep_time=False):
        path = self._env_path(env, "profiles", quote(profile["id"], safe=""))
        return self.control("PUT", path + ("?keep_time=1" if keep_time else ""), profile)

    def patch_profile(self, env, pid, changes):
        return self.control("PATCH", self._env_path(env, "profiles", quote(pid, safe="")), changes)

    def delete_profile(self, env, pid):
        self.control("DELETE", self._env_path(env, "profiles", quote(pid, safe="")))

    def fault(self, kind, count=1, **kw):
        self.control("POST", "faults", dict(kw, kind=kind, count=count))

    def clear_faults(self):
        self.control("DELETE", "faults")

    def configure(self, **kw):
        return self.control("POST", "config", kw)

    def grant(self, env):
        return self.control("POST", self._env_path(env, "grant"))

    def tokens(self, env):
        return self.control("GET", self._env_path(env, "tokens"))

    def expire_token(self, env):
        self.control("POST", self._env_path(env, "tokens", "expire"))

    def revoke(self, env):
        self.control("POST", self._env_path(env, "tokens", "revoke"))
