"""The server process: command line, TLS, IPv6, logging, keep-alive, gzip, restart."""

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakesprinklr.client import ApiClient  # noqa: E402
from fakesprinklr.fixtures import api, fake, wait_for  # noqa: E402,F401
from fakesprinklr.launcher import PACKAGE_PARENT, PYTHON, Fake, FakeError  # noqa: E402

ME = "/api/v2/me"


def run_server(tmp_path, *args):
    """Start the server by hand; returns (process, ready info)."""
    ready = tmp_path / "ready.json"
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    proc = subprocess.Popen([PYTHON, "-m", "fakesprinklr", "--ready-file", str(ready)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wait_for(lambda: ready.exists() or proc.poll() is not None, timeout=20)
    assert proc.poll() is None, proc.communicate()
    return proc, json.loads(ready.read_text())


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_cli_defaults_plain_http_and_clean_sigterm(tmp_path):
    proc, info = run_server(tmp_path, "--http", "--profiles", "10")
    assert info["url"].startswith("http://127.0.0.1:") and info["ca_file"] is None
    assert info["pid"] == proc.pid and info["url"].endswith(":%d" % info["port"])
    query = "client_id=sandbox-key&response_type=code&redirect_uri=http://localhost:8123/sprinklr/callback"
    request = urllib.request.Request(info["url"] + "/prod2/oauth/authorize?" + query)
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(request)
    assert err.value.code == 302
    proc.send_signal(signal.SIGTERM)
    out, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.decode().strip() == info["url"]
    log = errors.decode()
    assert "GET /prod2/oauth/authorize 302" in log
    assert "sandbox-key" not in log and "code=" not in log and "?" not in log


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def test_sigint_exits_zero(tmp_path):
    proc, _ = run_server(tmp_path, "--http", "--profiles", "1")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_bad_arguments_fail(tmp_path):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    for args in (["--env", "prod-only-name"], ["--rate-limit-answer", "418"], ["--profiles", "-1"]):
        proc = subprocess.run([PYTHON, "-m", "fakesprinklr", "--http"] + args, env=env,
                              capture_output=True, timeout=20)
        assert proc.returncode == 2, args


def test_tls_dir_is_created_once_and_reused(tmp_path):
    tls_dir = tmp_path / "tls"
    with Fake(tmp_path / "one", profiles=5) as first:
        pass
    proc, info = run_server(tmp_path, "--tls-dir", str(tls_dir), "--profiles", "5")
    ca = tls_dir / "ca.pem"
    stamp = ca.stat().st_mtime_ns
    proc.terminate()
    proc.communicate(timeout=10)
    proc, info = run_server(tmp_path, "--tls-dir", str(tls_dir), "--profiles", "5")
    assert ca.stat().st_mtime_ns == stamp and info["ca_file"] == str(ca)
    proc.terminate()
    proc.communicate(timeout=10)
    assert first.ca_file.endswith("ca.pem")


def test_env_option_and_hostnames(tmp_path):
    envs = [("prod", "k1", "s1", "http://localhost:8123/sprinklr/callback"),
            ("qa4", "k2", "s2", "urn:ietf:wg:oauth:2.0:oob")]
    with Fake(tmp_path, envs=envs, profiles=20, host="localhost") as fake:
        assert fake.url.startswith("https://localhost:")
        client = ApiClient(fake, "qa4")
        tokens = client.login()
        assert client.call("GET", ME).status == 200
        assert fake.tokens("qa4")["current"]["access_token"] == tokens["access_token"]
        assert fake.api_url("prod") == fake.url and fake.api_url("qa4") == fake.url + "/qa4"
        assert fake.env("qa4")["redirect_uri"] == "urn:ietf:wg:oauth:2.0:oob"
        client.close()


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback")
def test_ipv6_loopback(tmp_path):
    with Fake(tmp_path, profiles=5, host="::1") as fake:
        assert fake.url.startswith("https://[::1]:")
        client = ApiClient(fake, "prod2")
        client.login()
        assert client.call("GET", ME).status == 200
        client.close()


def test_options_reach_the_server(tmp_path):
    with Fake(tmp_path, profiles=3, seed=9, expires_in_string=True, token_lifetime=5,
              rate_per_second=0, rate_per_hour=7, cursor_lifetime=1, max_page_size=2) as fake:
        config = fake.control("GET", "config")
        assert config["expires_in_string"] is True and config["rate_per_hour"] == 7
        assert config["max_page_size"] == 2 and config["cursor_lifetime"] == 1
        assert len(fake.profiles("prod2")) == 3
        client = ApiClient(fake, "prod2")
        assert client.login()["expires_in"] == "5"
        client.close()
    with pytest.raises(TypeError):
        Fake(tmp_path, colour="blue")


def test_restart_keeps_port_and_base_data(tmp_path):
    with Fake(tmp_path, profiles=15) as fake:
        port, before = fake.port, fake.profiles("prod2")
        fake.delete_profile("prod2", before[0]["id"])
        fake.restart()
        assert fake.port == port
        assert fake.profiles("prod2") == before
    fake.stop()


def test_start_failure_is_reported(tmp_path):
    with Fake(tmp_path / "a", profiles=1) as first:
        clash = Fake(tmp_path / "b", profiles=1)
        clash.port = first.port
        with pytest.raises(FakeError):
            clash.start()


def test_keep_alive_and_gzip(fake, api):
    assert api.call("GET", ME).status == 200
    sock = api.conn.sock
    for _ in range(5):
        assert api.call("GET", ME).status == 200
    assert api.conn.sock is sock
    reply = api.search({"page": {"size": 20}})
    assert "Content-Encoding" not in reply.headers
    zipped = api.call("POST", "/api/v2/search/PROFILE", {"page": {"size": 20}},
                      headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    unzipped = json.loads(gzip.decompress(zipped.body))
    assert unzipped["data"]["results"] == reply.json()["data"]["results"]


def client_of(fake, api):
    """A second client of prod2 with api's token and no connection yet."""
    client = ApiClient(fake, "prod2")
    client.access_token = api.access_token
    return client


def test_a_keep_alive_client_is_one_connection(fake, api):
    for _ in range(3):
        assert api.call("GET", ME).status == 200
    # api connected before the reset: its calls count, its connection does not
    assert fake.transport() == {"connections": 0, "handshakes": 0, "resumed": 0, "used": 1}
    client = client_of(fake, api)
    try:
        for _ in range(3):
            assert client.call("GET", ME).status == 200
    finally:
        client.close()
    assert fake.transport() == {"connections": 1, "handshakes": 1, "resumed": 0, "used": 2}
    fake.reset_counters()
    assert fake.transport() == {"connections": 0, "handshakes": 0, "resumed": 0, "used": 0}


def test_handshakes_that_resume_a_session_are_counted(fake, api):
    api.call("GET", ME)
    session, context = api.conn.sock.session, api.conn.sock.context
    for offered in (session, session, None):
        raw = socket.create_connection((fake.host, fake.port), timeout=30)
        sock = context.wrap_socket(raw, server_hostname=fake.host, session=offered)
        assert sock.session_reused == (offered is not None)
        client = client_of(fake, api)
        client.conn = fake.connect()
        client.conn.sock = sock          # http.client sends over it as it is
        try:
            assert client.call("GET", ME).status == 200
        finally:
            client.close()
    assert fake.transport() == {"connections": 3, "handshakes": 3, "resumed": 2, "used": 4}


def test_alpn_settles_on_http_1_1(fake):
    context = fake.ssl_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection((fake.host, fake.port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname=fake.host) as sock:
            assert sock.selected_alpn_protocol() == "http/1.1"


def test_gzip_encoded_answers_are_counted(fake, api):
    zipped = []
    for headers in ({}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "gzip;q=0"}):
        reply = api.call("POST", "/api/v2/search/PROFILE", {"page": {"size": 20}},
                         headers=headers)
        assert reply.status == 200
        zipped.append(reply.headers.get("Content-Encoding"))
    assert zipped == [None, "gzip", None]
    reply = api.call("GET", ME, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in reply.headers      # too small to bother
    conn = fake.connect()
    try:
        conn.request("GET", "/_fake/envs/prod2/profiles/" + fake.profiles("prod2")[0]["id"],
                     headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.headers["Content-Encoding"] == "gzip"   # control: never counted
    assert fake.counters()["gzip"] == {"prod2": {"search": 1}}
    assert fake.gzipped("prod2", "search") == fake.gzipped() == 1
    assert fake.gzipped("prod2", ("me", "search-next")) == fake.gzipped("qa4") == 0


def test_plain_http_connections_have_no_handshakes(tmp_path):
    with Fake(tmp_path / "plain", profiles=1, tls=False) as plain:
        plain.reset_counters()
        conn = plain.connect()
        try:
            for _ in range(2):
                conn.request("GET", "/prod2" + ME)
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 403
        finally:
            conn.close()
        assert plain.transport() == {"connections": 1, "handshakes": 0, "resumed": 0,
                                     "used": 1}


def test_counters_are_ready_when_the_answer_is(fake, api):
    for n in range(1, 20):
        api.call("GET", ME)
        assert fake.calls("prod2", "me") == n


def test_parallel_clients(fake, api):
    import threading
    errors, finished = [], []

    def worker():
        client = ApiClient(fake, "prod2")
        client.access_token = api.access_token
        try:
            results, _ = client.search_all({"page": {"size": 40}})
            assert len(results) == len(fake.profiles("prod2"))
            finished.append(len(results))
        except Exception as err:   # collected for the main thread
            errors.append(err)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a client still runs"
    assert errors == []
    assert finished == [len(fake.profiles("prod2"))] * 4


def test_ndjson_is_streamed(fake):
    conn = fake.connect()
    conn.request("GET", "/_fake/envs/prod2/profiles")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.headers["Transfer-Encoding"] == "chunked"
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    lines = resp.read().splitlines()
    assert len(lines) == len(fake.profiles("prod2"))
    conn.close()


def test_control_errors(fake):
    for method, path in (("GET", "nothing"), ("GET", "envs/nope/profiles"),
                         ("POST", "envs/prod2/tokens/nope")):
        with pytest.raises(FakeError) as err:
            fake.control(method, path)
        assert err.value.status == 404
    with pytest.raises(FakeError) as err:
        fake.configure(rate_limit_answer="418")
    assert err.value.status == 400
    with pytest.raises(FakeError):
        fake.configure(colour="blue")
    with pytest.raises(FakeError):
        fake.touch("prod2", ids=["0" * 24])
    assert fake.profile("prod2", "0" * 24) is None


def test_log_never_shows_secrets(fake, api):
    api.refresh()
    api.call("GET", "/api/v2/profile?snType=SMS&snUserId=1")
    wait_for(lambda: "snType" not in open(fake.log_path()).read() and
             "GET /prod2/api/v2/profile 404" in open(fake.log_path()).read())
    log = open(fake.log_path()).read()
    for secret in ("sandbox-secret", "sandbox-key", api.access_token, api.refresh_token):
        assert secret not in log
    for token in fake.tokens("prod2")["issued"]:
        assert token not in log
