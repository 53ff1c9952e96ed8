"""Pacing below the documented limits (10 calls/s, 1000/h per key): a fake
that enforces them never has to throttle a mount, and a mount that is
throttled anyway waits and retries within its bounds."""
import errno
import os
import re
import subprocess
import time

import fsutil
import util
from fsutil import Expected, api_calls, errno_of, read

FOREVER = 100000
PROFILES = 600
PAGE = 10


def limited(keyring, make_fake):
    """A fake enforcing the default limits, logged in, its windows empty."""
    fake = make_fake(profiles=PROFILES)
    util.login(fake, keyring.env)
    return fake


def fresh_windows(fake):
    fake.reset_limits()
    fake.reset_counters()


def never_throttled(fake, m):
    assert fake.calls(status=429) == 0
    assert fake.calls(status=403) == 0
    assert fake.counters()["throttled"] == {}
    status = fsutil.status(m)
    assert status["rate_limit_waits"]["count"] > 0
    assert status["calls_this_hour"] >= fsutil.pages(PROFILES, PAGE)


def test_find_is_never_throttled(keyring, make_fake, mount):
    fake = limited(keyring, make_fake)
    fresh_windows(fake)
    m = mount("-o", f"page_size={PAGE}")
    res = subprocess.run(["find", str(m.path / "prod2"), "-ls"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    own = re.compile(re.escape(f" {m.path}/prod2/profiles/") + r"[^/ ]+\.json$")
    assert sum(1 for line in res.stdout.splitlines() if own.search(line)) == PROFILES
    assert api_calls(fake, endpoint=("search", "search-next"), status=200) == \
        fsutil.pages(PROFILES, PAGE)
    never_throttled(fake, m)


def test_rsync_is_never_throttled(keyring, make_fake, mount, tmp_path):
    fake = limited(keyring, make_fake)
    expected = Expected(fake)
    fresh_windows(fake)
    m = mount("-o", f"page_size={PAGE}")
    copy = tmp_path / "copy"
    fsutil.rsync(m.path / "prod2", copy, "--exclude=/.status.json")
    fsutil.check_tree(copy, expected)
    never_throttled(fake, m)


def test_ratelimit_headers_hold_the_next_call(mounted):
    fake, m = mounted(profiles=20)
    fsutil.enter(fake, m)
    root = m.path / "prod2"
    me = fsutil.api_get(fake, "prod2", "/api/v2/me")
    workspaces = fsutil.api_get(fake, "prod2", "/api/v2/client/accessible-clients")
    fake.reset_counters()
    waits = fsutil.status(m)["rate_limit_waits"]["count"]
    # a successful answer that says the quota is used up until a second or
    # two from now
    reset_at = int(time.time()) + 2
    fake.fault("status", 1, env="prod2", endpoint="me", status=200,
               body=fsutil.dumps(me),
               headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset_at)})
    assert fsutil.same_json(read(root / "me.json"), me["data"])
    assert fsutil.same_json(read(root / "workspaces.json"), workspaces["data"])
    assert fsutil.calls_by_endpoint(fake) == {"me": 1, "accessible-clients": 1}
    assert fsutil.status(m)["rate_limit_waits"]["count"] > waits


def test_throttled_beyond_the_bounds_is_eagain(mounted):
    fake, m = mounted("-o", "retries=1,read_timeout=5", profiles=20)
    m.expect_log(r"\bprod2\b")
    fsutil.enter(fake, m)
    fake.fault("status", FOREVER, env="prod2", endpoint="me", status=429,
               headers={"Retry-After": "1"}, body="Too Many Requests")
    assert errno_of(lambda: read(m.path / "prod2" / "me.json")) == errno.EAGAIN
    # every attempt waits out its Retry-After second, and waiting stops at
    # read_timeout
    assert 1 <= api_calls(fake, endpoint="me", status=429) <= 6
    fake.clear_faults()
    util.wait_for(lambda: errno_of(lambda: read(m.path / "prod2" / "me.json")) is None,
                  timeout=10, what="me.json once the limit is gone")


def test_an_unknown_profile_throttled_beyond_the_bounds_is_eagain(mounted):
    """Not EIO: nothing failed but the quota, and a retry later works."""
    fake, m = mounted("-o", "retries=1,read_timeout=5", profiles=20)
    m.expect_log(r"prod2: GET profile failed: rate limited")
    fsutil.enter(fake, m)
    fake.fault("status", FOREVER, env="prod2", endpoint="profile", status=429,
               headers={"Retry-After": "1"}, body="Too Many Requests")
    path = m.path / "prod2" / "profiles" / ("f" * 24 + ".json")
    assert errno_of(lambda: os.stat(path)) == errno.EAGAIN
    assert api_calls(fake, endpoint="profile", status=429) >= 1
    fake.clear_faults()
    assert errno_of(lambda: os.stat(path)) == errno.ENOENT
    assert api_calls(fake, endpoint="profile", status=404) == 1
