"""`sprinklrfs auth`: login, import, status, refresh, logout — against the
fake over HTTPS, with tokens in a real Secret Service."""
import json
import os
import re
import socket

import pytest

import util
from util import Login, auth, fake_args, login

LINE = re.compile(r"^prod2: logged in as Ada Admin \(PARTNER_ADMIN\), "
                  r"token valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC$")


def status(keyring, *args):
    return auth(keyring.env, "status", *args)


def test_login_flow(keyring, fake):
    out = login(fake, keyring.env)
    assert LINE.match(out.strip().splitlines()[-1]), out
    res = status(keyring, "prod2")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("prod2: Ada Admin (PARTNER_ADMIN), token valid until ")
    assert "stored in keyring" in res.stdout
    counters = fake.counters()
    assert counters["tokens_issued"]["prod2"] == 1
    assert fake.calls("prod2", "token", 200) == 1


def test_login_page_tells_user_to_go_back(keyring, fake):
    flow = Login(fake, keyring.env)
    code, body = flow.visit(flow.authorize())
    assert code == 200 and "go back to the terminal" in body
    assert flow.finish()[0] == 0


def test_login_url_is_the_authorize_url(keyring, fake):
    flow = Login(fake, keyring.env)
    e = fake.env("prod2")
    assert flow.url.startswith(fake.url + "/prod2/oauth/authorize?")
    assert f"client_id={e['key']}" in flow.url
    assert "response_type=code" in flow.url
    assert re.fullmatch(r"[0-9a-f]{32}", flow.state)
    flow.visit(flow.authorize())
    assert flow.finish()[0] == 0


def test_wrong_state_is_rejected_and_login_continues(keyring, fake):
    flow = Login(fake, keyring.env)
    callback = flow.authorize()
    forged = callback.replace(flow.state, "0" * 32)
    code, body = flow.visit(forged)
    assert code == 400 and "does not belong" in body
    assert flow.visit(callback)[0] == 200
    assert flow.finish()[0] == 0


def test_wrong_path_and_missing_code_keep_listening(keyring, fake):
    flow = Login(fake, keyring.env)
    callback = flow.authorize()
    base = callback.split("/sprinklr/callback")[0]
    assert flow.visit(base + "/elsewhere?code=x&state=" + flow.state)[0] == 404
    assert flow.visit(base + "/sprinklr/callback?state=" + flow.state)[0] == 400
    assert flow.visit(base + "/sprinklr/callback")[0] == 400
    assert flow.visit(callback)[0] == 200
    assert flow.finish()[0] == 0


def test_malformed_request_keeps_listening(keyring, fake):
    flow = Login(fake, keyring.env)
    callback = flow.authorize()
    port = int(callback.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"NONSENSE\r\n\r\n")
        reply = s.recv(1024)  # refused at once: closed, or answered 400
        assert reply == b"" or reply.startswith(b"HTTP/1.1 400")
    assert flow.visit(callback)[0] == 200
    assert flow.finish()[0] == 0


def test_provider_error_stores_nothing(keyring, fake):
    flow = Login(fake, keyring.env)
    callback = flow.authorize().split("?")[0]
    code, body = flow.visit(f"{callback}?error=access_denied&state={flow.state}")
    assert code == 403
    rc, out, err = flow.finish()
    assert rc == 1 and "did not grant access: access_denied" in err
    assert "not logged in" in status(keyring, "prod2").stdout


def test_rejected_code_stores_nothing(keyring, fake):
    flow = Login(fake, keyring.env)
    callback = flow.authorize().split("?")[0]
    assert flow.visit(f"{callback}?code=bogus&state={flow.state}")[0] == 200
    rc, out, err = flow.finish()
    assert rc == 1 and "rejected the authorization" in err
    assert len(err.strip().splitlines()) == 1
    assert status(keyring, "prod2").returncode == 1


def test_unreachable_api_stores_nothing(keyring, fake):
    dead = f"https://127.0.0.1:{util.free_port()}"
    flow = Login(fake, keyring.env, extra=["--api-url", dead])
    callback = fake.env("prod2")["redirect_uri"]
    assert flow.visit(f"{callback}?code=abc&state={flow.state}")[0] == 200
    rc, out, err = flow.finish()
    assert rc == 1 and "cannot get tokens from Sprinklr" in err
    assert len(err.strip().splitlines()) == 1
    assert "not logged in" in status(keyring, "prod2").stdout


def test_port_in_use(keyring, fake):
    port = int(fake.env("prod2")["redirect_uri"].split(":")[2].split("/")[0])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        res = auth(keyring.env, "login", "prod2", "--no-browser",
                   *fake_args(fake), input="prod2-secret\n")
    assert res.returncode == 1
    assert f"cannot listen on 127.0.0.1 port {port}" in res.stderr
    assert "Address already in use" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert fake.calls() == 0


def test_localhost_redirect_listens_on_both_loopbacks(keyring, make_fake):
    fake = make_fake()
    port = util.free_port()
    redirect = f"http://localhost:{port}/sprinklr/callback"
    fake.envs = [("prod2", "prod2-key", "prod2-secret", redirect)]
    fake.restart()
    flow = Login(fake, keyring.env)
    callback = flow.authorize()
    assert callback.startswith(redirect + "?")
    v6 = callback.replace("localhost", "[::1]")
    assert flow.visit(v6)[0] == 200
    assert flow.finish()[0] == 0


@pytest.mark.parametrize("args, message", [
    (["Prod2", "--key", "k"], "not an environment name"),
    (["prod2"], "needs --key"),
    (["prod2", "--key", "k", "--redirect-uri", "https://localhost:8123/cb"],
     "must be http:// on a loopback host"),
    (["prod2", "--key", "k", "--redirect-uri", "http://example.com:8123/cb"],
     "must be http:// on a loopback host"),
    (["prod2", "--key", "k", "--api-url", "http://api3.sprinklr.com"],
     "must be https://"),
    (["prod2", "--key", "k", "--ca-file", "/nonexistent/ca.pem"],
     "cannot read the CA file"),
])
def test_login_usage_errors(keyring, args, message):
    res = auth(keyring.env, "login", *args, input="secret\n")
    assert res.returncode == 2
    assert message in res.stderr


def test_import(keyring, fake):
    tokens = fake.grant("prod2")
    lines = f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    res = auth(keyring.env, "import", "prod2", *fake_args(fake), input=lines)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("prod2: imported; logged in as Ada Admin")
    assert status(keyring, "prod2").returncode == 0
    assert fake.calls("prod2", "token") == 0


def test_import_refreshes_a_rejected_access_token(keyring, fake):
    tokens = fake.grant("prod2")
    fake.expire_token("prod2")
    lines = f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    res = auth(keyring.env, "import", "prod2", *fake_args(fake), input=lines)
    assert res.returncode == 0, res.stderr
    assert fake.calls("prod2", "token", 200) == 1
    assert status(keyring, "prod2").returncode == 0


def test_import_with_dead_tokens_stores_nothing(keyring, fake):
    tokens = fake.grant("prod2")
    fake.revoke("prod2")
    lines = f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    res = auth(keyring.env, "import", "prod2", *fake_args(fake), input=lines)
    assert res.returncode == 1
    assert "not logged in" in status(keyring, "prod2").stdout


def test_status_json_and_exit_codes(keyring, fake):
    login(fake, keyring.env)
    res = status(keyring, "--json")
    assert res.returncode == 0
    [entry] = json.loads(res.stdout)
    assert entry["env"] == "prod2" and entry["state"] == "ok"
    assert entry["user"] == "Ada Admin" and entry["store"] == "keyring"
    assert entry["expires_at"] > entry["refreshed_at"] > 0
    res = status(keyring, "prod2", "qa4")
    assert res.returncode == 1
    assert "qa4: not logged in (run: sprinklrfs auth login qa4)" in res.stdout


def test_status_offline_is_not_needs_login(keyring, fake):
    login(fake, keyring.env)
    fake.stop()
    res = status(keyring, "prod2")
    assert res.returncode == 3
    assert res.stdout.startswith("prod2: offline (")
    assert "needs login" not in res.stdout


def test_refresh_and_logout(keyring, fake):
    login(fake, keyring.env)
    res = auth(keyring.env, "refresh", "prod2")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("prod2: token refreshed, valid until ")
    assert fake.counters()["tokens_issued"]["prod2"] == 2
    assert status(keyring, "prod2").returncode == 0
    for _ in range(2):
        res = auth(keyring.env, "logout", "prod2")
        assert res.returncode == 0 and res.stdout == "prod2: logged out\n"
    res = status(keyring, "prod2")
    assert res.returncode == 1 and "not logged in" in res.stdout


def test_transparent_refresh_across_expiries(keyring, make_fake):
    fake = make_fake(token_lifetime=2, rate_per_second=0, rate_per_hour=0)
    login(fake, keyring.env)
    deadline = util.time.monotonic() + 7
    runs = 0
    while util.time.monotonic() < deadline:
        res = status(keyring, "prod2")
        assert res.returncode == 0, res.stdout + res.stderr
        runs += 1
    issued = fake.counters()["tokens_issued"]["prod2"]
    assert issued >= 3, issued
    assert fake.counters()["refresh_reused"].get("prod2", 0) == 0


def test_token_endpoint_down_then_recovers(keyring, fake):
    login(fake, keyring.env)
    fake.expire_token("prod2")
    fake.fault("status", count=3, endpoint="token", status=503, body="down")
    res = status(keyring, "prod2")
    assert res.returncode == 3 and "offline" in res.stdout
    fake.fault("status", count=3, endpoint="token", status=503, body="down")
    res = auth(keyring.env, "refresh", "prod2")
    assert res.returncode == 1
    assert "needs" not in res.stderr
    res = status(keyring, "prod2")
    assert res.returncode == 0, res.stdout
    assert fake.counters()["refresh_reused"].get("prod2", 0) == 0


def test_revoked_needs_login(keyring, fake):
    login(fake, keyring.env)
    fake.revoke("prod2")
    res = status(keyring, "prod2")
    assert res.returncode == 1
    assert res.stdout == "prod2: needs login (run: sprinklrfs auth login prod2)\n"
    res = auth(keyring.env, "status", "prod2", "--json")
    assert json.loads(res.stdout)[0]["state"] == "needs-login"
    login(fake, keyring.env)
    assert status(keyring, "prod2").returncode == 0


def test_no_secret_service(env, fake, tmp_path):
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-bus"
    res = auth(env, "status")
    assert res.returncode == 1
    assert "no Secret Service is reachable" in res.stderr
    assert "--store=file" in res.stderr or "--store file" in res.stderr


def test_file_store(env, fake):
    tokens = fake.grant("prod2")
    lines = f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    res = auth(env, "import", "prod2", "--store", "file", *fake_args(fake), input=lines)
    assert res.returncode == 0, res.stderr
    path = os.path.join(env["XDG_CONFIG_HOME"], "sprinklrfs", "prod2.json")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert "credentials are kept in a file" in res.stderr
    res = auth(env, "status", "--store", "file")
    assert res.returncode == 0 and "stored in file" in res.stdout
    os.chmod(path, 0o644)
    res = auth(env, "status", "--store", "file")
    assert res.returncode == 1 and "chmod 600" in res.stdout + res.stderr


def test_file_store_under_a_missing_home_names_it(env, fake, tmp_path):
    tokens = fake.grant("prod2")
    lines = f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    env.pop("XDG_CONFIG_HOME", None)
    env["HOME"] = str(tmp_path / "gone")
    res = auth(env, "import", "prod2", "--store", "file", *fake_args(fake), input=lines)
    assert res.returncode == 1
    assert f"cannot create {tmp_path}/gone/.config: the directory it goes in " \
           "does not exist" in res.stderr
    assert "no credentials file" not in res.stderr
    assert not (tmp_path / "gone").exists()
    for secret in ("prod2-secret", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in res.stdout + res.stderr
