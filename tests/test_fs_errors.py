"""Failures map to errno (never ENOENT for a network failure), stay inside
their environment, and heal: an API back online, a new login while mounted."""
import errno
import json
import os

import pytest

import fsutil
import util

FRESH = "fresh_profile"   # an id the mounted index cannot know


def add_fresh(fake, env):
    fake.put_profile(env, {"id": FRESH, "profiles": [], "createdTime": 1700000000000})


def working(root, count=250):
    """The environment at root answers reads; raises when it does not."""
    json.loads(fsutil.read(root / "me.json"))
    assert len(os.listdir(root / "profiles")) >= count
    return True


def test_revoked_environment_fails_eacces_and_spares_the_other(mounted):
    fake, m = mounted(names=("prod2", "qa4"))
    m.expect_log(r"\bqa4\b")
    assert len(os.listdir(m.path / "qa4" / "profiles")) == 250
    fake.revoke("qa4")
    add_fresh(fake, "qa4")
    qa4 = m.path / "qa4"
    assert fsutil.errno_of(lambda: fsutil.read(qa4 / "me.json")) == errno.EACCES
    assert fsutil.errno_of(lambda: fsutil.read(qa4 / "workspaces.json")) == errno.EACCES
    assert fsutil.errno_of(lambda: fsutil.read(qa4 / "profiles" / f"{FRESH}.json")) \
        == errno.EACCES
    util.wait_for(lambda: "run: sprinklrfs auth login qa4" in m.log(), timeout=20,
                  what="the daemon to say how to log in again")
    assert working(m.path / "prod2")
    add_fresh(fake, "prod2")
    assert fsutil.same_json(fsutil.read(m.path / "prod2" / "profiles" / f"{FRESH}.json"),
                            fake.profile("prod2", FRESH))
    assert sorted(os.listdir(m.path)) == ["prod2", "qa4"]


@pytest.mark.parametrize("kind", ["status", "reset", "malformed", "truncate"])
def test_failing_environment_fails_eio_and_spares_the_other(mounted, kind):
    fake, m = mounted("-o", "retries=1", names=("prod2", "qa4"))
    m.expect_log(r"\bqa4\b")
    fake.fault(kind, count=100000, env="qa4", status=503)
    qa4 = m.path / "qa4"
    assert fsutil.errno_of(lambda: fsutil.read(qa4 / "me.json")) == errno.EIO
    assert fsutil.errno_of(lambda: os.listdir(qa4 / "profiles")) == errno.EIO
    assert fsutil.errno_of(lambda: fsutil.read(qa4 / "profiles" / f"{FRESH}.json")) \
        == errno.EIO
    assert fsutil.errno_of(lambda: os.stat(qa4 / "channels" / "TWITTER" / "1.json")) \
        == errno.EIO
    assert working(m.path / "prod2")
    status = json.loads(fsutil.read(qa4 / ".status.json"))
    assert isinstance(status["last_error"], str) and status["last_error"]
    fake.clear_faults()
    util.wait_for(lambda: fsutil.errno_of(lambda: working(qa4)) is None, timeout=20,
                  what="qa4 to work again")


def test_unreachable_api_at_mount_time(keyring, make_fake, mount):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    fake.stop()
    m = mount("-o", "retries=1")
    m.expect_log(r"sprinklrfs: (error|warning): ")
    root = m.path / "prod2"
    assert os.listdir(m.path) == ["prod2"]
    assert set(os.listdir(root)) == fsutil.ENV_ENTRIES
    assert fsutil.errno_of(lambda: fsutil.read(root / "me.json")) == errno.EIO
    assert fsutil.errno_of(lambda: os.listdir(root / "profiles")) == errno.EIO
    assert fsutil.errno_of(lambda: fsutil.read(root / "profiles" / "some_id.json")) \
        == errno.EIO
    assert fsutil.errno_of(lambda: fsutil.read(root / "profiles.ndjson")) == errno.EIO
    status = json.loads(fsutil.read(root / ".status.json"))
    assert isinstance(status["last_error"], str) and status["last_error"]
    fake.start()                    # same port, same CA, but it forgot its tokens
    util.login(fake, keyring.env)
    util.wait_for(lambda: fsutil.errno_of(lambda: working(root)) is None, timeout=20,
                  what="the mount to work once the API is back")
    fsutil.check_tree(root, fsutil.Expected(fake))


def test_transport_failures_heal_without_remount(keyring, make_fake, mount):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    fake.fault("reset", count=100000, env="prod2")
    m = mount("-o", "retries=1")
    m.expect_log(r"sprinklrfs: (error|warning): ")
    root = m.path / "prod2"
    assert fsutil.errno_of(lambda: os.listdir(root / "profiles")) == errno.EIO
    assert fsutil.errno_of(lambda: fsutil.read(root / "custom-fields.json")) == errno.EIO
    fake.clear_faults()
    util.wait_for(lambda: fsutil.errno_of(lambda: working(root)) is None, timeout=20,
                  what="the mount to work once the API is back")
    assert fake.counters()["tokens_issued"]["prod2"] == 1


def test_a_new_login_is_picked_up_without_remount(mounted, keyring):
    fake, m = mounted()
    m.expect_log(r"\bprod2\b")
    root = m.path / "prod2"
    fsutil.read(root / "me.json")
    fake.revoke("prod2")
    assert fsutil.errno_of(lambda: fsutil.read(root / "workspaces.json")) == errno.EACCES
    unknown = root / "profiles" / ("0" * 24 + ".json")
    assert fsutil.errno_of(lambda: fsutil.read(unknown)) == errno.EACCES
    util.wait_for(lambda: "run: sprinklrfs auth login prod2" in m.log(), timeout=20,
                  what="the daemon to say how to log in again")
    util.login(fake, keyring.env)
    util.wait_for(lambda: fsutil.errno_of(lambda: fsutil.read(root / "workspaces.json"))
                  is None, timeout=10, what="reads to work after the new login")
    assert len(os.listdir(root / "profiles")) == 250
    assert fsutil.same_json(fsutil.read(root / "workspaces.json"),
                            fsutil.api_get(fake, "prod2",
                                           "/api/v2/client/accessible-clients")["data"])


def another_host(environ, home):
    """environ as another machine would have it: its own HOME and runtime
    directory, credentials in its own file store, no access to this keyring."""
    home.mkdir()
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    other = {k: v for k, v in environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    other.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
                 XDG_CONFIG_HOME=str(home / ".config"),
                 XDG_CACHE_HOME=str(home / ".cache"))
    return other


def test_a_login_with_the_same_key_on_another_host_ends_this_one(mounted, keyring,
                                                                 tmp_path):
    """Sprinklr keeps one token set per key: another machine logging in with
    this key kills this mount's tokens, and its next call says to log in."""
    fake, m = mounted()
    line = ("sprinklrfs: error: prod2: the refresh token was rejected; "
            "run: sprinklrfs auth login prod2")
    later = ("sprinklrfs: error: prod2: needs a new login; "
             "run: sprinklrfs auth login prod2")
    m.expect_log("^(" + line + "|" + later + ")$")
    fsutil.enter(fake, m)
    util.login(fake, another_host(keyring.env, tmp_path / "host2"),
               extra=["--store", "file"])
    fake.reset_counters()
    root = m.path / "prod2"
    assert fsutil.errno_of(lambda: fsutil.read(root / "me.json")) == errno.EACCES
    # the superseded token, then its refresh token, both refused
    assert fsutil.api_calls(fake) == fsutil.api_calls(fake, endpoint="me", status=401) == 1
    assert fake.calls("prod2", "token") == 1
    fsutil.wait_log(m, "^" + line + "$")
    assert [e for e in m.log().splitlines() if "error:" in e] == [line]
    # and so it stays, without a call, until a login here
    assert fsutil.errno_of(lambda: fsutil.read(root / "workspaces.json")) == errno.EACCES
    assert fsutil.api_calls(fake) == 1 and fake.calls("prod2", "token") == 1
    fsutil.wait_log(m, "^" + later + "$")
    status = util.auth(keyring.env, "status", "prod2")
    assert status.returncode == 1
    assert "prod2: needs login (run: sprinklrfs auth login prod2)" in status.stdout


def test_rate_limit_beyond_the_wait_bound_is_eagain(mounted):
    """Retry-After longer than read_timeout: the read gives up with EAGAIN at
    once, the index keeps serving, and calls resume when Retry-After ends."""
    fake, m = mounted("-o", "read_timeout=2")
    m.expect_log(r"\bprod2\b|rate|429")
    root = m.path / "prod2"
    fsutil.enter(fake, m)
    fake.fault("status", count=1, env="prod2", endpoint="me", status=429,
               headers={"Retry-After": "4"}, body="Developer Over Qps")

    def read_me():
        return fsutil.errno_of(lambda: fsutil.read(root / "me.json"))

    # "at once": the read does not wait for Retry-After (a hang guard)
    assert util.hang_guard(read_me, what="the throttled read") == errno.EAGAIN
    assert fake.calls("prod2", "me") == 1
    # while the key is blocked a read fails the same way and sends nothing
    # (the fault is spent: a call would be answered 200)
    assert util.hang_guard(read_me, what="a read while blocked") == errno.EAGAIN
    assert len(os.listdir(root / "profiles")) == 250
    assert fsutil.calls_by_endpoint(fake) == {"me": 1}
    util.wait_for(lambda: read_me() is None,
                  timeout=20, what="me.json once Retry-After has passed")
    # no call went out while the key was blocked, and calls resumed after it
    assert fake.calls("prod2", "me", 429) == 1
    assert fake.calls("prod2", "me", 200) == 1
    assert fsutil.calls_by_endpoint(fake) == {"me": 2}
