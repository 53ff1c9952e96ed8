"""The quota is a budget: full listings (background calls) use only their
share of each rate window and wait for it, however long, while a person at
the mount (foreground calls) keeps the rest and goes first.

The fake enforces a small limit over a window of a few seconds
(rate_window), and the mount is told the same, so that "the hour" passes
within a test."""
import os
import re
import signal
import time
from datetime import datetime

import fsutil
import util
from fsutil import api_calls, read

WINDOW = 10          # seconds of the rate_per_hour window
PER_WINDOW = 20      # rate_per_hour
PAGE = 10


def limited_fake(keyring, make_fake, profiles, **options):
    """A fake enforcing PER_WINDOW calls per WINDOW, logged in; its windows
    and counters empty once the expected data is read."""
    fake = make_fake(profiles=profiles, rate_per_hour=PER_WINDOW,
                     rate_window=WINDOW, rate_per_second=10, **options)
    util.login(fake, keyring.env)
    expected = fsutil.Expected(fake)
    fake.reset_limits()
    fake.reset_counters()
    return fake, expected


def quota_options(*extra):
    return ("-o", ",".join([f"page_size={PAGE}", f"rate_per_hour={PER_WINDOW}",
                            f"rate_window={WINDOW}", *extra]))


def epoch(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp()


def never_throttled(fake):
    assert fake.calls(status=429) == 0
    assert fake.calls(status=403) == 0
    assert fake.counters()["throttled"] == {}


def waiting_for_quota(m):
    """.status.json once its background calls wait for the window."""
    return util.wait_for(
        lambda: (lambda s: s if s["quota"]["background_waits_until"] else None)(
            fsutil.status(m)),
        timeout=30, what="background calls waiting for quota")


def newest_id(expected):
    return max(expected.profiles.values(),
               key=lambda p: (p["modifiedTime"], p["id"].encode()))["id"]


def test_a_reader_is_answered_while_a_listing_waits_for_quota(keyring, make_fake,
                                                              mount):
    profiles = 250
    fake, expected = limited_fake(keyring, make_fake, profiles,
                                  cursor_lifetime=2)
    share = PER_WINDOW * 80 // 100         # background_share's default
    m = mount(*quota_options("read_timeout=2"))
    root = m.path / "prod2"
    os.stat(root)                            # starts the first listing
    status = waiting_for_quota(m)
    assert status["sync"]["state"] == "listing"
    assert status["sync"]["waits_for_quota_until"] is not None
    assert status["sync"]["next_full_sync"] is None
    assert status["sync"]["full_sync_cost"] is None     # nothing listed yet
    assert status["sync"]["progress"]["estimated_end"] is not None
    assert epoch(status["sync"]["progress"]["estimated_end"]) >= \
        epoch(status["sync"]["waits_for_quota_until"]) - 2
    assert status["quota"] == {
        "limit": PER_WINDOW, "window_seconds": WINDOW,
        "calls_this_window": {"foreground": 0, "background": share},
        "foreground_reserve": PER_WINDOW - share, "background_limit": share,
        "background_waits_until": status["quota"]["background_waits_until"]}
    assert api_calls(fake) == share
    # while it waits nothing happens, and .status.json holds still
    fsutil.wait_past(1.5, time.monotonic())
    assert fsutil.status(m) == status
    # the reserve answers at once (read_timeout=2 would fail a wait)
    assert fsutil.same_json(read(root / "me.json"), expected.me)
    newest = newest_id(expected)
    assert fsutil.same_json(read(root / "profiles" / f"{newest}.json"),
                            expected.profiles[newest])
    assert sorted(os.listdir(root / "lists" / "partner")) == \
        sorted(str(item["id"]) for item in expected.partner_lists)
    status = fsutil.status(m)
    assert status["sync"]["state"] == "listing"
    assert fsutil.calls_by_endpoint(fake)["me"] == 1
    assert fsutil.calls_by_endpoint(fake)["profile"] == 1
    assert fsutil.calls_by_endpoint(fake)["bootstrap"] == 1
    # the window slides: the listing goes on by itself and completes
    util.wait_for(lambda: fsutil.status(m)["sync"]["state"] == "complete",
                  timeout=60, what="the listing to complete")
    never_throttled(fake)
    # the cursor expired while the listing waited: one next page refused
    resumes = api_calls(fake, endpoint="search-next") - \
        api_calls(fake, endpoint="search-next", status=200)
    assert resumes == 1
    # 160 of 250 profiles listed when it stopped: the restart reads again
    # (or asks after) the last one's modifiedTime, which costs a page
    assert api_calls(fake, endpoint=("search", "search-next"), status=200) == \
        fsutil.pages(profiles, PAGE) + resumes
    fsutil.check_ndjson(read(root / "profiles.ndjson"), expected)
    status = fsutil.status(m)
    assert status["sync"]["progress"] is None
    assert status["sync"]["waits_for_quota_until"] is None
    assert status["quota"]["background_waits_until"] is None
    assert status["sync"]["full_sync_cost"] == fsutil.pages(profiles, PAGE)
    assert epoch(status["sync"]["next_full_sync"]) == \
        epoch(status["sync"]["last_full_sync"]) + 21600


def test_an_unmount_ends_a_wait_for_quota(keyring, make_fake, mount):
    """A listing that waits for the rest of a real hour does not hold up an
    unmount: the daemon exits 0, its log clean."""
    fake = make_fake(profiles=250, rate_per_hour=PER_WINDOW, rate_per_second=10)
    util.login(fake, keyring.env)
    fake.reset_limits()
    m = mount("-o", f"page_size={PAGE},rate_per_hour={PER_WINDOW},read_timeout=2")
    os.stat(m.path / "prod2")
    status = waiting_for_quota(m)
    assert epoch(status["sync"]["waits_for_quota_until"]) > time.time() + 600
    synced = status["sync"]["profiles"]
    assert synced == PER_WINDOW * 80 // 100 * PAGE
    m.unmount()
    assert "waiting for quota" not in m.log()


def api_lines(fake):
    """The API calls in the fake's log, in the order they were answered."""
    with open(fake.log_path()) as f:
        return [line for line in f if re.match(r"(GET|POST) /prod2/api/", line)]


def test_a_reader_goes_before_waiting_background_calls(mounted, mount):
    """A full listing with two partitions fills a window of 4 calls and
    waits; a reader arriving meanwhile takes the first slot that frees up.
    One call per second keeps the calls apart, so that the fake's log shows
    the order in which they went."""
    limit = 4
    fake, m = mounted("-o", f"page_size={PAGE}", profiles=40)
    expected = fsutil.Expected(fake)
    fsutil.check_ndjson(read(m.path / "prod2" / "profiles.ndjson"), expected)
    m.unmount()
    fake.configure(rate_per_hour=limit, rate_window=WINDOW)
    fake.reset_limits()
    fake.reset_counters()
    mark = len(api_lines(fake))
    m = mount("-o", f"page_size={PAGE},rate_per_hour={limit},rate_window={WINDOW},"
              "rate_per_second=1,read_timeout=30,partitions=2,background_share=100",
              name="again")
    root = m.path / "prod2"
    os.listdir(root / "profiles")            # the incremental sync: 1 call
    os.kill(m.proc.pid, signal.SIGHUP)       # a full listing, in the background
    waiting_for_quota(m)
    assert api_calls(fake) == limit          # the sync, the probe, a page per part
    assert fsutil.same_json(read(root / "me.json"), expected.me)
    util.wait_for(lambda: fsutil.status(m)["sync"]["progress"] is None,
                  timeout=60, what="the full listing to complete")
    never_throttled(fake)
    later = [line.split()[1] for line in api_lines(fake)[mark:]]
    assert later[limit] == "/prod2/api/v2/me", later
    assert later.count("/prod2/api/v2/me") == 1
    fsutil.check_ndjson(read(root / "profiles.ndjson"), expected)


def test_a_full_sync_that_cannot_fit_its_interval_is_stretched(keyring, make_fake,
                                                               mount):
    profiles, window = 50, 30
    fake = make_fake(profiles=profiles, rate_per_hour=PER_WINDOW,
                     rate_window=window, rate_per_second=10)
    util.login(fake, keyring.env)
    fake.reset_limits()
    m = mount("-o", f"page_size={PAGE},rate_per_hour={PER_WINDOW},"
              f"rate_window={window},background_share=50,full_sync=1,ttl=1")
    root = m.path / "prod2"
    os.stat(root)
    util.wait_for(lambda: fsutil.status(m)["sync"]["state"] == "complete",
                  timeout=30, what="the first listing")
    fake.reset_counters()
    cost = fsutil.pages(profiles, PAGE)
    # 5 calls at 10 background calls per 30 s window need 15 s, not 1
    stretched = cost * window // (PER_WINDOW // 2)
    status = fsutil.status(m)
    assert status["sync"]["full_sync_cost"] == cost
    assert epoch(status["sync"]["next_full_sync"]) == \
        epoch(status["sync"]["last_full_sync"]) + stretched
    fsutil.wait_log(m, rf"prod2: a full listing costs {cost} calls, more than "
                    rf"the background share pays for in full_sync \(1 s\): full "
                    rf"listings run every {stretched} s")
    # past full_sync and ttl, an access is an incremental sync, not a listing
    since = time.monotonic()
    fsutil.wait_past(1.5, since)
    os.listdir(root / "profiles")
    os.listdir(root / "profiles")
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    assert len(re.findall(r"full listings run every", m.log())) == 1
    never_throttled(fake)


def test_quota_options_are_checked(tmp_path, env):
    (tmp_path / "mnt").mkdir()
    for bad in ("background_share=0", "background_share=101", "rate_window=0"):
        res = util.run([util.binary(), "-f", tmp_path / "mnt", "-o", bad], env=env)
        assert res.returncode != 0
        assert "background_share 1 to 100" in res.stderr, res.stderr
