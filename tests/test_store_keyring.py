"""The keyring store against a real Secret Service (gnome-keyring on a private
bus), driven through build/tests/unit/creds_tool."""
import errno
import json
import os
import signal
import subprocess

import pytest

import util


def tool(environ, *args, input=None, timeout=60):
    environ = dict(environ, CREDS_TOOL_DEBUG="1")
    return util.run([util.creds_tool(), *args], environ, input=input,
                    timeout=timeout)


def creds(env, token="access-1", refresh="refresh-1"):
    return {
        "version": 1,
        "env": env,
        "api_url": "https://127.0.0.1:8443",
        "ca_file": "/tmp/ca.pem",
        "key": "app-key",
        "secret": f"app-secret-{env}",
        "redirect_uri": "http://localhost:8123/sprinklr/callback",
        "access_token": token,
        "refresh_token": refresh,
        "expires_at": 4102444800,
        "refreshed_at": 1700000000,
        "user_name": "Ada Admin",
        "user_type": "PARTNER_ADMIN",
        "needs_login": False,
    }


def save(environ, doc):
    res = tool(environ, "save", input=json.dumps(doc))
    assert res.returncode == 0, res.stderr
    return res


def load(environ, env):
    res = tool(environ, "load", env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def items(environ):
    """secret-tool's view: one dict per item, attributes and label."""
    res = util.run(["secret-tool", "search", "--all", "--unlock",
                    "service", "sprinklrfs"], environ)
    assert res.returncode == 0, res.stderr
    found = []
    for line in (res.stdout + res.stderr).splitlines():
        if line.startswith("["):
            found.append({"attributes": {}})
        key, sep, value = line.partition(" = ")
        if not sep or not found:
            continue
        if key.startswith("attribute."):
            found[-1]["attributes"][key[len("attribute."):]] = value
        elif key == "label":
            found[-1]["label"] = value
    return found


def test_save_load_round_trip(keyring):
    doc = creds("prod2")
    save(keyring.env, doc)
    assert load(keyring.env, "prod2") == doc


def test_optional_fields_stay_absent(keyring):
    doc = creds("qa4")
    for name in ("ca_file", "access_token", "refresh_token", "user_name",
                 "user_type"):
        del doc[name]
    save(keyring.env, doc)
    assert load(keyring.env, "qa4") == doc


def test_save_replaces_the_one_item(keyring):
    save(keyring.env, creds("prod2", "old-access", "old-refresh"))
    save(keyring.env, creds("prod2", "new-access", "new-refresh"))
    got = load(keyring.env, "prod2")
    assert got["access_token"] == "new-access"
    assert got["refresh_token"] == "new-refresh"
    assert len(items(keyring.env)) == 1


def test_concurrent_loads(keyring):
    save(keyring.env, creds("prod2"))
    res = tool(keyring.env, "load-threads", "prod2", "16")
    assert res.returncode == 0, res.stderr


def test_list_sorted(keyring):
    res = tool(keyring.env, "list")
    assert res.returncode == 0 and res.stdout == ""
    for env in ("qa4", "prod2", "prod"):
        save(keyring.env, creds(env))
    res = tool(keyring.env, "list")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["prod", "prod2", "qa4"]


def test_list_ignores_foreign_items(keyring):
    save(keyring.env, creds("prod2"))
    res = util.run(["secret-tool", "store", "--label=other", "service",
                    "sprinklrfs", "env", "Not/An/Env"], keyring.env,
                   input="x")
    assert res.returncode == 0, res.stderr
    res = util.run(["secret-tool", "store", "--label=other", "service",
                    "something-else", "env", "prod9"], keyring.env,
                   input="x")
    assert res.returncode == 0, res.stderr
    res = tool(keyring.env, "list")
    assert res.stdout.splitlines() == ["prod2"]


def test_delete_is_idempotent(keyring):
    save(keyring.env, creds("prod2"))
    save(keyring.env, creds("qa4"))
    assert tool(keyring.env, "delete", "prod2").returncode == 0
    assert tool(keyring.env, "delete", "prod2").returncode == 0
    assert tool(keyring.env, "list").stdout.splitlines() == ["qa4"]
    res = tool(keyring.env, "load", "prod2")
    assert res.returncode == errno.ENOENT
    assert "sprinklrfs auth login" in res.stderr


def test_missing_item(keyring):
    res = tool(keyring.env, "load", "prod12")
    assert res.returncode == errno.ENOENT
    assert "ENOENT" in res.stderr and res.stdout == ""


def test_corrupt_secret(keyring):
    res = util.run(["secret-tool", "store", "--label=broken", "service",
                    "sprinklrfs", "env", "prod7"], keyring.env,
                   input="{not json")
    assert res.returncode == 0, res.stderr
    res = tool(keyring.env, "load", "prod7")
    assert res.returncode == errno.EINVAL, res.stderr


def test_secret_for_another_env(keyring):
    res = util.run(["secret-tool", "store", "--label=moved", "service",
                    "sprinklrfs", "env", "prod8"], keyring.env,
                   input=json.dumps(creds("prod3")))
    assert res.returncode == 0, res.stderr
    res = tool(keyring.env, "load", "prod8")
    assert res.returncode == errno.EINVAL, res.stderr


def test_attributes_hold_no_secret(keyring):
    doc = creds("prod2", "access-abc123", "refresh-def456")
    save(keyring.env, doc)
    found = items(keyring.env)
    assert len(found) == 1
    item = found[0]
    assert item["label"] == "sprinklrfs: prod2"
    attrs = item["attributes"]
    assert attrs.get("service") == "sprinklrfs"
    assert attrs.get("env") == "prod2"
    assert set(attrs) == {"env", "service"}
    text = " ".join(list(attrs) + list(attrs.values()) + [item["label"]])
    for secret in ("access-abc123", "refresh-def456", doc["secret"],
                   doc["key"]):
        assert secret not in text


def expect_no_service(res):
    assert res.returncode == errno.EHOSTDOWN, res.stderr
    assert "no Secret Service is reachable" in res.stderr
    assert "gnome-keyring-daemon --start" in res.stderr
    assert "--store=file" in res.stderr


def test_bus_address_to_nowhere(env, tmp_path):
    environ = dict(env)
    environ["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-such-bus"
    for args in (["load", "prod2"], ["list"], ["delete", "prod2"]):
        expect_no_service(tool(environ, *args, timeout=30))
    expect_no_service(tool(environ, "save", input=json.dumps(creds("prod2")),
                           timeout=30))


def test_no_bus_at_all(env):
    environ = dict(env)
    environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    expect_no_service(tool(environ, "load", "prod2", timeout=30))


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={bus}</listen>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def test_bus_without_secret_service(env, tmp_path):
    """A session bus that can start no Secret Service (no activation files)."""
    services = tmp_path / "services"
    services.mkdir()
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG.format(
        bus=os.path.join(env["XDG_RUNTIME_DIR"], "bus"), services=services))
    out = subprocess.run(
        ["dbus-daemon", f"--config-file={config}", "--fork",
         "--print-address=1", "--print-pid=1"],
        env=env, capture_output=True, text=True, timeout=30, check=True)
    address, pid = out.stdout.split()[:2]
    environ = dict(env, DBUS_SESSION_BUS_ADDRESS=address)
    try:
        expect_no_service(tool(environ, "load", "prod2", timeout=30))
        expect_no_service(tool(environ, "list", timeout=30))
        # found through $XDG_RUNTIME_DIR/bus without the variable, too
        del environ["DBUS_SESSION_BUS_ADDRESS"]
        expect_no_service(tool(environ, "delete", "prod2", timeout=30))
    finally:
        os.kill(int(pid), signal.SIGTERM)


def test_unresponsive_service_times_out(keyring):
    save(keyring.env, creds("prod2"))
    environ = dict(keyring.env, SPRINKLRFS_KEYRING_TIMEOUT_MS="500")
    os.kill(keyring.daemon.pid, signal.SIGSTOP)
    try:
        res = tool(environ, "load", "prod2", timeout=30)
    finally:
        os.kill(keyring.daemon.pid, signal.SIGCONT)
    assert res.returncode == errno.ETIMEDOUT, res.stderr
    assert "did not answer in time" in res.stderr
    assert load(keyring.env, "prod2")["env"] == "prod2"


def test_file_store_through_the_tool(env):
    doc = creds("prod2")
    res = tool(env, "--store=file", "save", input=json.dumps(doc))
    assert res.returncode == 0, res.stderr
    assert "credentials are kept in a file" in res.stderr
    res = tool(env, "--store=file", "load", "prod2")
    assert json.loads(res.stdout) == doc
    path = os.path.join(env["XDG_CONFIG_HOME"], "sprinklrfs", "prod2.json")
    assert os.stat(path).st_mode & 0o777 == 0o600
    os.chmod(path, 0o644)
    res = tool(env, "--store=file", "load", "prod2")
    assert res.returncode == errno.EPERM
    assert path in res.stderr and "chmod 600" in res.stderr


@pytest.mark.parametrize("args", [["load"], ["frobnicate"], ["--store=x", "list"]])
def test_usage(env, args):
    assert tool(env, *args).returncode == 64
