"""Networks that fail: slow answers, resets, truncated and unreadable bodies,
a server that trickles or hangs, one that is down at mount time or restarted
during an rsync, tokens and cursors that expire while a listing runs."""
import errno
import os
import subprocess
import time

import pytest

import fsutil
import util
from fsutil import Expected, api_calls, errno_of, read

FOREVER = 100000
ANY_COMPLAINT = r"sprinklrfs: (error|warning): "


def names_of(fake, env="prod2"):
    return sorted(f"{p['id']}.json" for p in fake.profiles(env))


def working(root):
    """Reads under root work; raises when they do not."""
    read(root / "me.json")
    return os.listdir(root / "profiles")


def recovers(root, timeout=20):
    util.wait_for(lambda: errno_of(lambda: working(root)) is None, timeout=timeout,
                  what=f"{root} to work again")


def test_two_seconds_per_call_times_nothing_out(mounted):
    fake, m = mounted(profiles=150)
    expected = Expected(fake)
    fake.configure(latency=2)
    fake.reset_counters()
    root = m.path / "prod2"
    assert sorted(os.listdir(root / "profiles")) == sorted(
        f"{pid}.json" for pid in expected.profiles)
    assert fsutil.same_json(read(root / "me.json"), expected.me)
    some = sorted(expected.profiles)[7]
    assert fsutil.same_json(read(root / "profiles" / f"{some}.json"),
                            expected.profiles[some])
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "me": 1}
    assert fake.calls("prod2", "token") == 0


@pytest.mark.parametrize("kind,seconds", [("trickle", 60), ("hang", 3600)])
def test_a_stalled_server_fails_eio_in_bounded_time(mounted, kind, seconds):
    fake, m = mounted("-o", "stall_timeout=2,read_timeout=10,retries=1", profiles=20)
    m.expect_log(r"\bprod2\b")
    root = m.path / "prod2"
    fake.fault(kind, FOREVER, env="prod2", endpoint="me", seconds=seconds)
    # stall_timeout ends each attempt after 2 s without progress, where the
    # server would hold it for an hour or send a byte a minute: the read
    # returns, and one still blocked after a minute (the hang guard) fails
    assert util.hang_guard(lambda: errno_of(lambda: read(root / "me.json")),
                           what=f"a read from a {kind}ing server") == errno.EIO
    # the mount stays usable meanwhile and afterwards
    assert len(os.listdir(root / "profiles")) == 20
    fake.clear_faults()
    recovers(root)


def test_connection_refused_at_mount_time(keyring, make_fake, mount):
    fake = make_fake(profiles=50, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    fake.stop()
    m = mount("-o", "retries=1")
    m.expect_log(ANY_COMPLAINT)
    root = m.path / "prod2"
    assert set(os.listdir(root)) == fsutil.ENV_ENTRIES
    assert errno_of(lambda: read(root / "me.json")) == errno.EIO
    assert errno_of(lambda: os.listdir(root / "profiles")) == errno.EIO
    assert errno_of(lambda: read(root / "profiles" / "some_id.json")) == errno.EIO
    status = fsutil.status(m)
    assert isinstance(status["last_error"], str) and status["last_error"]
    assert status["sync"]["state"] != "complete"
    fake.start()            # the same port and CA; it forgot every token
    util.login(fake, keyring.env)
    recovers(root)
    fsutil.check_tree(root, Expected(fake))


TRANSIENT = [("reset", {}, "reset"), ("truncate", {}, "truncate"),
             ("malformed", {}, "malformed"),
             ("status", {"status": 503, "body": "Service Unavailable"}, "503")]


@pytest.mark.parametrize("kind,extra,label", TRANSIENT, ids=[t[0] for t in TRANSIENT])
def test_transient_failures_are_retried_exactly(mounted, kind, extra, label):
    fake, m = mounted("-o", "retries=2,page_size=10", profiles=50)
    m.expect_log(r"\bprod2\b")
    root = m.path / "prod2"
    # every attempt of a listing fails: three attempts, then EIO
    fake.fault(kind, FOREVER, env="prod2", endpoint="search", **extra)
    errno_of(lambda: os.stat(root))
    fake.reset_counters()
    assert errno_of(lambda: os.stat(root / "profiles")) == errno.EIO
    assert api_calls(fake, endpoint="search", status=label) == 3
    assert api_calls(fake) == 3
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")
    fake.clear_faults()
    fake.reset_counters()
    # one failure in the middle of a listing: it goes on where it was
    fake.fault("latency", 2, env="prod2", endpoint="search-next", seconds=0)
    fake.fault(kind, 1, env="prod2", endpoint="search-next", **extra)
    assert sorted(os.listdir(root / "profiles")) == names_of(fake)
    assert api_calls(fake, endpoint="search-next", status=label) == 1
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "search-next": 4 + 1}
    # two failures, then the answer: the reader sees only the answer
    want = fsutil.api_get(fake, "prod2", "/api/v2/client/accessible-clients")["data"]
    fake.reset_counters()
    fake.fault(kind, 2, env="prod2", endpoint="accessible-clients", **extra)
    assert fsutil.same_json(read(root / "workspaces.json"), want)
    assert api_calls(fake, endpoint="accessible-clients", status=label) == 2
    assert api_calls(fake, endpoint="accessible-clients", status=200) == 1
    assert api_calls(fake) == 3


def test_token_expiry_in_the_middle_of_a_listing(keyring, make_fake, mount):
    fake = make_fake(profiles=100, token_lifetime=2, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    fake.configure(latency=0.5)
    fake.reset_counters()
    # ten pages at half a second or more each: two-second tokens expire
    # while the listing runs
    m = mount("-o", "page_size=10")
    assert sorted(os.listdir(m.path / "prod2" / "profiles")) == names_of(fake)
    counters = fake.counters()
    assert counters["tokens_issued"].get("prod2", 0) >= 2
    assert counters["refresh_reused"].get("prod2", 0) == 0
    assert fake.calls("prod2", "token", 400) == 0
    assert api_calls(fake, endpoint="search-next", status=400) == 0
    assert api_calls(fake, endpoint=("search", "search-next"), status=200) == \
        fsutil.pages(100, 10)
    assert fsutil.status(m)["sync"]["state"] == "complete"


def test_cursor_expiry_in_the_middle_of_an_rsync(mounted, tmp_path):
    fake, m = mounted("-o", "page_size=10", profiles=100, cursor_lifetime=1)
    m.expect_log(r"cursor")
    expected = Expected(fake)
    fake.reset_counters()
    fake.fault("latency", 5, env="prod2", endpoint="search-next", seconds=0)
    fake.fault("latency", 1, env="prod2", endpoint="search-next", seconds=2)
    copy = tmp_path / "copy"
    fsutil.rsync(m.path / "prod2", copy, "--exclude=/.status.json")
    fsutil.check_tree(copy, expected)
    assert api_calls(fake, endpoint="search-next", status=400) == 1
    assert api_calls(fake, endpoint="search", status=200) == 2
    assert api_calls(fake, endpoint=("search", "search-next"), status=200) <= \
        fsutil.pages(100, 10) + 2


def test_a_completed_index_outlives_the_server(mounted, keyring, tmp_path):
    fake, m = mounted("-o", "ttl=1,retries=1", profiles=100)
    m.expect_log(ANY_COMPLAINT)
    root = m.path / "prod2"
    expected = Expected(fake)
    os.listdir(root / "profiles")
    assert fsutil.status(m)["sync"]["state"] == "complete"
    fake.stop()
    since = time.monotonic()
    copy = tmp_path / "copy"
    fsutil.rsync(root / "profiles", copy)
    fsutil.wait_past(1, since)
    # the sync that ttl asks for fails; the index keeps serving
    assert sorted(os.listdir(root / "profiles")) == sorted(
        f"{pid}.json" for pid in expected.profiles)
    fsutil.rsync(root / "profiles", copy / "again")
    util.wait_for(lambda: fsutil.status(m)["sync"]["state"] == "stale", timeout=10,
                  what=".status.json to say stale")
    files, _, _ = fsutil.scan(copy / "again")
    assert set(files) == {f"{pid}.json" for pid in expected.profiles}
    for pid, profile in expected.profiles.items():
        assert fsutil.same_json(files[f"{pid}.json"], profile)
    fake.start()
    util.login(fake, keyring.env)
    util.wait_for(lambda: os.listdir(root / "profiles") and
                  fsutil.status(m)["sync"]["state"] == "complete", timeout=20,
                  what="the next sync to succeed")


def test_an_unfinished_listing_resumes_after_a_restart(keyring, make_fake, mount,
                                                       tmp_path):
    fake = make_fake(profiles=600, latency=0.05, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    expected_ids = {p["id"] for p in fake.profiles("prod2")}
    m = mount("-o", "page_size=10,retries=12")
    m.expect_log(ANY_COMPLAINT)
    copy = tmp_path / "copy"
    rsync = subprocess.Popen(["rsync", "-a", f"{m.path / 'prod2' / 'profiles'}/",
                              f"{copy}/"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        util.wait_for(lambda: fake.calls("prod2", "search-next", 200) >= 20, timeout=30,
                      what="the listing to be under way")
        # killed; it comes back forgetting tokens and cursors. Whatever the
        # mount sends it before the new login is stored waits there for a few
        # seconds: a request with the old token could only spend the dead
        # refresh token.
        fake.stop()
        fake.options["latency"] = 3
        fake.start()
        for endpoint in ("search", "search-next"):
            fake.fault("latency", 1, env="prod2", endpoint=endpoint, seconds=2)
        fake.configure(latency=0.05)
        del fake.options["latency"]
        util.login(fake, keyring.env)
        out, err = rsync.communicate(timeout=120)
    finally:
        if rsync.poll() is None:
            rsync.kill()
            rsync.wait()
    assert rsync.returncode == 0, (err, m.log())
    assert {name[:-len(".json")] for name in os.listdir(copy)} == expected_ids
    # after the restart: one search from the last modifiedTime seen, and the
    # pages left, never the twenty already listed again
    resumed = api_calls(fake, endpoint=("search", "search-next"), status=200)
    assert api_calls(fake, endpoint="search", status=200) == 1
    assert resumed <= fsutil.pages(600, 10) - 20 + 1
    for name in sorted(os.listdir(copy))[::50]:
        assert fsutil.same_json((copy / name).read_bytes(),
                                fake.profile("prod2", name[:-len(".json")]))
