"""Helpers for running sprinklrfs in tests: where the build is, polling,
mounting in the foreground, unmounting cleanly and cleaning up after failures.

Tests run from the source tree against the meson build directory
(SPRINKLRFS_BUILD, default ./build); nothing is copied or installed.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lines in a daemon's output that fail a test unless it said it expects them.
UNEXPECTED = re.compile(
    r"error:|warning:|^fuse:|Assertion|AddressSanitizer|LeakSanitizer|"
    r"runtime error|Segmentation|Aborted", re.IGNORECASE)

# A sanitizer's report (builds with -Db_sanitize): fails any command, even one
# whose test expects it to fail.
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: ")


def build_dir():
    return Path(os.environ.get("SPRINKLRFS_BUILD", ROOT / "build")).resolve()


def binary():
    path = build_dir() / "sprinklrfs"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: build first "
                           "(meson setup build && ninja -C build)")
    return str(path)


def wait_for(condition, timeout=10.0, interval=0.01, what="condition"):
    """Poll condition() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def hang_guard(action, seconds=60, what="the call"):
    """action()'s result, or its exception, once it returns; a failure when
    it is still blocked after seconds. A liveness check, never a timing:
    seconds is far beyond what action needs. A blocked action is left to
    its thread (the mount's teardown ends it)."""
    import threading
    outcome = []

    def call():
        try:
            outcome.append((True, action()))
        except BaseException as err:  # handed to the caller
            outcome.append((False, err))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise AssertionError(f"{what} is still blocked after {seconds}s")
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


def check_sanitizer(args, stderr):
    if stderr and SANITIZER.search(stderr):
        raise AssertionError(f"sanitizer report from {args}:\n{stderr}")


def run(args, env=None, input=None, timeout=60, check=False):
    """Run a command (sprinklrfs or any other) to completion, its output
    captured as text; arguments may be paths. A sanitizer's report in its
    stderr fails the test whatever the exit status; with check the command
    must exit 0 as well. env None is this process's environment."""
    args = [str(a) for a in args]
    res = subprocess.run(args, env=env, input=input, capture_output=True,
                         text=True, timeout=timeout)
    check_sanitizer(args, res.stderr)
    if check:
        assert res.returncode == 0, \
            f"{args} exited {res.returncode}:\n{res.stdout}{res.stderr}"
    return res


def sanitizer_to_files(environ, prefix):
    """environ for a daemon that outlives its stderr (fuse_daemonize points
    it at /dev/null): sanitizer reports go to files PREFIX.PID (log_path)
    instead, for check_sanitizer_files. ASan and LSan take log_path, and so
    does UBSan where it is part of ASan's runtime (clang); GCC's separate
    libubsan does not, but its halt_on_error shows in the exit status."""
    environ = dict(environ)
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        environ[name] = ":".join(filter(None, [environ.get(name),
                                               f"log_path={prefix}"]))
    return environ


def check_sanitizer_files(prefix):
    """Any file a sanitizer wrote for sanitizer_to_files(..., prefix) is a
    report, and fails the test."""
    prefix = Path(prefix)
    reports = sorted(prefix.parent.glob(prefix.name + ".*"))
    if reports:
        text = "".join(path.read_text(errors="replace") for path in reports)
        raise AssertionError(f"sanitizer reports in {prefix}.*:\n{text}")


# Runs the command argv[1:] as the subreaper of every process it leaves
# behind (a daemon's parent exits; the daemon is then its child): prints the
# command's {"code", "stdout", "stderr"}, then, once all it left have
# exited, {pid: exit status} (a signal as its negative number).
REAPER = r"""
import ctypes, json, os, subprocess, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_CHILD_SUBREAPER: " + os.strerror(ctypes.get_errno()))
res = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,
                     capture_output=True, text=True, timeout=60)
print(json.dumps({"code": res.returncode, "stdout": res.stdout,
                  "stderr": res.stderr}), flush=True)
exits = {}
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    exits[pid] = os.waitstatus_to_exitcode(status)
print(json.dumps(exits), flush=True)
"""


class Background:
    """A mount command that daemonizes (sprinklrfs without -f, mount.fuse3,
    mount(8)), run to completion under REAPER so that the daemon it leaves
    is seen to exit, and with what status. The daemon's stderr is
    /dev/null: its sanitizer reports go to files in workdir.

    returncode, stdout and stderr are the command's own; its stderr is
    checked for a sanitizer report at once."""

    def __init__(self, args, env, workdir):
        self.args = [str(a) for a in args]
        self.reports = Path(workdir) / "sanitizer"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", REAPER, *self.args],
            env=sanitizer_to_files(env, self.reports), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.args} under the reaper: "
                                 f"{self.proc.stderr.read()}")
        started = json.loads(line)
        self.returncode = started["code"]
        self.stdout, self.stderr = started["stdout"], started["stderr"]
        check_sanitizer(self.args, self.stderr)

    def unmount(self, mountpoint, timeout=20):
        """fusermount3 -u, then finish()."""
        res = fusermount_u(mountpoint)
        assert res.returncode == 0, res.stderr
        return self.finish(timeout)

    def finish(self, timeout=20):
        """Once unmounted: every process the command left behind (the
        daemon) exits 0 within timeout, and no sanitizer report was
        written. Returns {pid: exit status}."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the daemon of {self.args} is still running "
                                 f"{timeout}s after the unmount") from None
        assert self.proc.returncode == 0, err
        exits = {int(pid): code for pid, code in json.loads(out).items()}
        check_sanitizer_files(self.reports)
        assert exits, f"{self.args} left no daemon behind"
        assert set(exits.values()) == {0}, f"the daemon of {self.args} exited: {exits}"
        return exits

    def kill(self):
        """Cleanup after a failure: the reaper goes; a daemon it still waits
        for is left to the lazy unmount that the caller does."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def fusermount_u(mountpoint, lazy=False):
    args = ["fusermount3", "-u"] + (["-z"] if lazy else []) + [str(mountpoint)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


class Mount:
    """One sprinklrfs daemon in the foreground (-f) on its own mount point."""

    def __init__(self, mountpoint, options, env, log_path, prefix=()):
        self.path = Path(mountpoint)
        self.options = list(options)
        self.prefix = list(prefix)  # a wrapper such as valgrind
        self.env = env
        self.log_path = Path(log_path)
        self.proc = None
        self.expected = []

    def start(self, timeout=20.0):
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.prefix + [binary(), "-f", str(self.path)] + self.options,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env)
        try:
            wait_for(lambda: os.path.ismount(self.path) or
                     self.proc.poll() is not None,
                     timeout=timeout, what=f"mount at {self.path}")
        except TimeoutError:
            self.kill()
            raise
        if not os.path.ismount(self.path):
            raise RuntimeError(f"sprinklrfs exited {self.proc.returncode} "
                               f"before mounting:\n{self.log()}")
        return self

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def expect_log(self, pattern):
        """Allow daemon output lines matching pattern (a regex)."""
        self.expected.append(re.compile(pattern))

    def unexpected_lines(self):
        return [line for line in self.log().splitlines()
                if UNEXPECTED.search(line)
                and not any(p.search(line) for p in self.expected)]

    def unmount(self, timeout=20.0):
        """Unmount with fusermount3 -u; the daemon must exit 0 with a clean log."""
        if self.proc is None:
            return
        res = fusermount_u(self.path)
        if res.returncode != 0:
            self.kill()
            raise AssertionError(f"fusermount3 -u failed: {res.stderr}")
        self.finish(timeout)

    def finish(self, timeout=20.0):
        """After an unmount: the daemon must exit 0 with a clean log."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("sprinklrfs did not exit after unmount")
        self.proc = None
        assert code == 0, f"sprinklrfs exited {code}:\n{self.log()}"
        bad = self.unexpected_lines()
        assert not bad, "unexpected daemon output:\n" + "\n".join(bad)

    def kill(self):
        """Last resort after a failure: never leave a mount or a process behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        if os.path.ismount(self.path):
            fusermount_u(self.path, lazy=True)


# Ports handed out for later use (redirect URIs) come from below the kernel's
# ephemeral range, so an outgoing connection cannot take one in the meantime.
FREE_PORTS = (20000, 32000)


def free_port(host="127.0.0.1"):
    """A port nobody listens on now, outside the ephemeral range."""
    import random
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        port = random.randrange(*FREE_PORTS)
        with socket.socket(family) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port


def auth(environ, *args, input=None, timeout=60):
    """Run `sprinklrfs auth ARGS`."""
    return run([binary(), "auth", *args], environ, input=input, timeout=timeout)


def creds_tool():
    """build/tests/unit/creds_tool: saves, loads and lists credentials
    through sprinklrfs's own credential store code."""
    path = build_dir() / "tests" / "unit" / "creds_tool"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: build first (ninja -C build)")
    return str(path)


def store_credentials(environ, name="prod2"):
    """Credentials for name in the file store (mount with -o store=file),
    for an API nobody serves: for mounts that make no API call."""
    doc = {"version": 1, "env": name, "api_url": "https://127.0.0.1:9",
           "key": f"{name}-key", "secret": f"{name}-secret",
           "redirect_uri": "http://localhost:8123/sprinklr/callback",
           "access_token": "access", "refresh_token": "refresh",
           "expires_at": 4102444800, "refreshed_at": 1700000000,
           "needs_login": False}
    run([creds_tool(), "--store=file", "save"], environ,
        input=json.dumps(doc), check=True)


def fake_args(fake, name="prod2"):
    """The options that point sprinklrfs at the fake for environment name."""
    e = fake.env(name)
    return ["--key", e["key"], "--api-url", fake.url, "--ca-file", fake.ca_file,
            "--redirect-uri", e["redirect_uri"]]


class Login:
    """`sprinklrfs auth login` driven the way a browser would drive it."""

    def __init__(self, fake, environ, name="prod2", extra=(), secret=None):
        import urllib.parse
        self.fake = fake
        e = fake.env(name)
        self.proc = subprocess.Popen(
            [binary(), "auth", "login", name, "--no-browser",
             *fake_args(fake, name), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=environ)
        self.proc.stdin.write((secret or e["secret"]) + "\n")
        self.proc.stdin.close()
        self.lines = []
        self.url = self._read_url()
        query = urllib.parse.urlsplit(self.url or "").query
        self.state = urllib.parse.parse_qs(query).get("state", [None])[0]

    def _read_url(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith(("http://", "https://")):
                return line.strip()
        return None

    def authorize(self):
        """Follow the printed URL at the fake; return the redirect target."""
        import urllib.parse
        parts = urllib.parse.urlsplit(self.url)
        conn = self.fake.connect()
        try:
            conn.request("GET", parts.path + "?" + parts.query)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 302, resp.status
            return resp.getheader("Location")
        finally:
            conn.close()

    @staticmethod
    def visit(url):
        """GET url like a browser; return (status, body)."""
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def finish(self, timeout=60):
        out = "".join(self.lines) + self.proc.stdout.read()
        err = self.proc.stderr.read()
        code = self.proc.wait(timeout=timeout)
        check_sanitizer(self.proc.args, err)
        return code, out, err


def login(fake, environ, name="prod2", extra=()):
    """A complete, successful login; returns sprinklrfs's stdout."""
    flow = Login(fake, environ, name, extra)
    assert flow.url, flow.finish()
    status, _ = flow.visit(flow.authorize())
    code, out, err = flow.finish()
    assert status == 200 and code == 0, (status, code, out, err)
    return out
