"""What each operation costs in API calls, counted exactly at the fake.

Counters are reset right before the operation under test, so every number
below is that operation's cost alone.
"""
import errno
import os
import threading

import pytest

import fsutil
import util
from fsutil import Expected, calls_by_endpoint, listing_calls


def test_mount_and_root_cost_nothing(mounted):
    fake, m = mounted()
    util.run(["ls", m.path], check=True)
    assert fsutil.api_calls(fake) == 0


def test_entering_an_environment_costs_the_listing(mounted):
    """An environment directory's mtime is its newest profile's, so the first
    look at it lists the profiles; nothing below costs more until ttl."""
    fake, m = mounted()
    util.run(["ls", m.path / "prod2"], check=True)
    assert fsutil.api_calls(fake) == fsutil.pages(250)
    fake.reset_counters()
    util.run(["ls", m.path / "prod2" / "lists"], check=True)
    util.run(["ls", "-l", m.path / "prod2" / "profiles"], check=True)
    assert fsutil.api_calls(fake) == 0


@pytest.mark.parametrize("profiles, page_size", [
    (250, None), (1000, None), (1001, None), (1, None), (250, 50), (100, 100),
    (101, 100),
])
def test_ls_l_profiles_costs_the_pages(mounted, profiles, page_size):
    """page_size=auto (None) asks for 1000, which the fake takes."""
    options = ("-o", f"page_size={page_size}") if page_size else ()
    fake, m = mounted(*options, profiles=profiles)
    page_size = page_size or fsutil.PAGE
    out = util.run(["ls", "-l", m.path / "prod2" / "profiles"], check=True).stdout
    assert len(out.splitlines()) == profiles + 1       # and the "total" line
    assert calls_by_endpoint(fake) == listing_calls(profiles, page_size)
    assert fsutil.api_calls(fake, status=200) == fsutil.pages(profiles, page_size)


def test_cat_of_every_profile_costs_nothing_more(mounted):
    fake, m = mounted()
    profiles = m.path / "prod2" / "profiles"
    util.run(["ls", "-l", profiles], check=True)
    fake.reset_counters()
    total = 0
    for name in os.listdir(profiles):
        total += len(fsutil.read(profiles / name))
    res = util.run(["sh", "-c", f"cat {profiles}/*.json | wc -c"], timeout=120)
    assert int(res.stdout) == total
    fsutil.read(m.path / "prod2" / "profiles.ndjson")
    assert fsutil.api_calls(fake) == 0


def test_repeated_find_ls_du_stat_cost_nothing(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    first = util.run(["find", root, "-ls"], check=True).stdout
    fake.reset_counters()
    again = util.run(["find", root, "-ls"], check=True).stdout
    assert again.count("\n") == first.count("\n")
    util.run(["du", "-s", root], check=True)
    util.run(["find", root, "-type", "f", "-exec", "stat", "{}", "+"], check=True)
    assert fsutil.api_calls(fake) == 0


def test_full_walk_costs(mounted):
    fake, m = mounted()
    fsutil.scan(m.path / "prod2")
    assert calls_by_endpoint(fake) == {"me": 1, "accessible-clients": 1, "bootstrap": 3,
                                       "search": 1}


@pytest.mark.parametrize("name, endpoint", [
    ("me.json", "me"),
    ("workspaces.json", "accessible-clients"),
    ("custom-fields.json", "bootstrap"),
])
def test_metadata_file_costs_one_call(mounted, name, endpoint):
    fake, m = mounted()
    fsutil.enter(fake, m)
    path = m.path / "prod2" / name
    os.stat(path)
    assert calls_by_endpoint(fake) == {endpoint: 1}
    fsutil.read(path)
    os.stat(path)
    fsutil.read(path)
    assert calls_by_endpoint(fake) == {endpoint: 1}


def test_lists_cost_one_bootstrap_call_each(mounted):
    fake, m = mounted()
    want = Expected(fake)
    lists = m.path / "prod2" / "lists"
    os.listdir(m.path / "prod2" / "profiles")
    fake.reset_counters()
    for item in want.partner_lists:
        fsutil.read(lists / "partner" / str(item["id"]) / "list.json")
    assert calls_by_endpoint(fake) == {"bootstrap": 1}
    for item in want.client_lists:
        fsutil.read(lists / "workspace" / str(item["clientId"]) / str(item["id"])
                    / "list.json")
    assert calls_by_endpoint(fake) == {"bootstrap": 2}
    # the lists' profiles.csv head their columns with custom-fields.json
    fsutil.scan(lists)
    assert calls_by_endpoint(fake) == {"bootstrap": 3}


def test_unlisted_profile_costs_one_call(mounted):
    fake, m = mounted()
    profiles = m.path / "prod2" / "profiles"
    os.listdir(profiles)
    fake.put_profile("prod2", {"id": "added_after_listing", "contact": {"fullName": "Late Comer"},
                               "profiles": [], "createdTime": 1700000000000})
    fake.reset_counters()
    data = fsutil.read(profiles / "added_after_listing.json")
    assert fsutil.same_json(data, fake.profile("prod2", "added_after_listing"))
    assert data.endswith(b"\n")
    assert calls_by_endpoint(fake) == {"profile": 1}


def test_missing_profile_is_enoent_and_remembered(mounted):
    fake, m = mounted()
    profiles = m.path / "prod2" / "profiles"
    os.listdir(profiles)
    fake.reset_counters()
    missing = profiles / "no_such_profile.json"
    assert fsutil.errno_of(lambda: fsutil.read(missing)) == errno.ENOENT
    assert fake.calls("prod2", "profile", 404) == 1
    assert calls_by_endpoint(fake) == {"profile": 1}
    assert fsutil.errno_of(lambda: fsutil.read(missing)) == errno.ENOENT
    assert fsutil.errno_of(lambda: os.stat(missing)) == errno.ENOENT
    assert calls_by_endpoint(fake) == {"profile": 1}


def test_unknown_channel_costs_one_call(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    os.listdir(root / "profiles")
    channel = {"name": "Late Comer", "channelType": "TWITTER",
               "channelId": "900000000000000042", "username": "latecomer"}
    fake.put_profile("prod2", {"id": "late_channel", "profiles": [channel],
                               "createdTime": 1700000000000})
    fake.reset_counters()
    link = root / "channels" / "TWITTER" / "900000000000000042.json"
    assert os.readlink(link) == "../../profiles/late_channel.json"
    assert calls_by_endpoint(fake) == {"profile-by-channel": 1}
    fake.reset_counters()
    absent = root / "channels" / "TWITTER" / "900000000000000043.json"
    assert fsutil.errno_of(lambda: os.lstat(absent)) == errno.ENOENT
    assert fake.calls("prod2", "profile-by-channel", 404) == 1
    assert calls_by_endpoint(fake) == {"profile-by-channel": 1}


def test_status_and_xattrs_cost_nothing(mounted):
    fake, m = mounted("-o", "xattr")
    fsutil.enter(fake, m)
    root = m.path / "prod2"
    for _ in range(3):
        fsutil.read(root / ".status.json")
        os.stat(root / ".status.json")
    assert fsutil.api_calls(fake) == 0
    names = os.listdir(root / "profiles")
    fake.reset_counters()
    for name in names:
        os.getxattr(root / "profiles" / name, "user.sprinklr.modified")
    assert fsutil.api_calls(fake) == 0


def test_parallel_readers_share_one_fetch(mounted):
    fake, m = mounted(latency=0.3)
    root = m.path / "prod2"
    barrier = threading.Barrier(8)
    results, failures = [], []

    def read(action):
        barrier.wait()
        try:
            results.append(action())
        except OSError as err:
            failures.append(err)

    def together(action):
        threads = [threading.Thread(target=read, args=(action,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    together(lambda: len(os.listdir(root / "profiles")))
    together(lambda: fsutil.read(root / "me.json"))
    assert failures == []
    assert results[:8] == [250] * 8 and len(set(results[8:])) == 1
    assert calls_by_endpoint(fake) == dict(listing_calls(250), me=1)
