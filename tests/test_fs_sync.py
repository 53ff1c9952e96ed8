"""Consistency with the fake over time: rsync copies, incremental syncs after
ttl, full syncs on demand (`sprinklrfs sync`, SIGHUP) that show deletions."""
import errno
import json
import os
import signal
import time

import fsutil
import util
from fsutil import Expected, calls_by_endpoint, listing_calls, rsync

NO_STATUS = "--exclude=/.status.json"


def changed_files(lines):
    """Names of the files an --itemize-changes listing transferred."""
    return {line.split(" ", 1)[1] for line in lines if line.startswith(">f")}


def test_rsync_copy_equals_the_fake(mounted, tmp_path):
    fake, m = mounted()
    copy = tmp_path / "copy"
    lines = rsync(m.path / "prod2", copy, NO_STATUS)
    assert len(changed_files(lines)) == Expected(fake).file_count() - 1
    fsutil.check_tree(copy, Expected(fake))


def test_second_rsync_within_ttl_transfers_nothing(mounted, tmp_path):
    fake, m = mounted()
    copy = tmp_path / "copy"
    rsync(m.path / "prod2", copy, NO_STATUS)
    fake.reset_counters()
    assert rsync(m.path / "prod2", copy, NO_STATUS) == []
    assert fsutil.api_calls(fake) == 0


def test_rsync_after_ttl_transfers_exactly_the_changed(mounted, tmp_path):
    fake, m = mounted("-o", "ttl=1")
    profiles = m.path / "prod2" / "profiles"
    copy = tmp_path / "copy"
    rsync(profiles, copy)
    done = time.monotonic()
    touched = fake.touch("prod2", count=3)
    fsutil.wait_past(1.2, done)
    fake.reset_counters()
    lines = rsync(profiles, copy)
    assert changed_files(lines) == {f"{pid}.json" for pid in touched}
    assert [line for line in lines if not line.startswith((">f", ".d"))] == []
    assert calls_by_endpoint(fake) == {"search": 1}
    for pid in touched:
        data = (copy / f"{pid}.json").read_bytes()
        assert fsutil.same_json(data, fake.profile("prod2", pid))
        st = os.stat(copy / f"{pid}.json")
        assert st.st_mtime_ns == fake.profile("prod2", pid)["modifiedTime"] * 10**6


def test_changed_and_new_profiles_show_after_ttl(mounted):
    fake, m = mounted("-o", "ttl=1")
    root = m.path / "prod2"
    before = set(os.listdir(root / "profiles"))
    oldest = min(fake.profiles("prod2"), key=lambda p: (p["modifiedTime"], p["id"]))
    old = fsutil.read(root / "profiles" / f"{oldest['id']}.json")
    done = time.monotonic()
    (pid,) = fake.touch("prod2", count=1)
    assert pid == oldest["id"]
    fake.put_profile("prod2", {"id": "new_after_listing", "profiles": [],
                               "createdTime": 1700000000000})
    fsutil.wait_past(1.2, done)
    fake.reset_counters()
    after = set(os.listdir(root / "profiles"))
    assert after - before == {"new_after_listing.json"}
    assert calls_by_endpoint(fake) == {"search": 1}
    path = root / "profiles" / f"{pid}.json"
    data = fsutil.read(path)
    assert data != old
    assert fsutil.same_json(data, fake.profile("prod2", pid))
    st = os.stat(path)
    assert st.st_size == len(data)
    assert st.st_mtime_ns == fake.profile("prod2", pid)["modifiedTime"] * 10**6
    lines = fsutil.read(root / "profiles.ndjson").splitlines()
    assert len(lines) == 251
    assert json.loads(next(l for l in lines if pid.encode() in l)) == \
        fake.profile("prod2", pid)


def check_gone(root, victim, count):
    path = root / "profiles" / f"{victim}.json"
    assert f"{victim}.json" not in os.listdir(root / "profiles")
    util.wait_for(lambda: fsutil.errno_of(lambda: os.stat(path)) == errno.ENOENT,
                  timeout=20, what="the deleted profile's entry to go")
    lines = fsutil.read(root / "profiles.ndjson").splitlines()
    assert len(lines) == count
    assert not any(json.loads(line)["id"] == victim for line in lines)


def test_deleted_profile_disappears_after_sync_full(mounted, keyring, tmp_path):
    fake, m = mounted()
    root = m.path / "prod2"
    copy = tmp_path / "copy"
    rsync(root / "profiles", copy)
    victim = sorted(os.listdir(root / "profiles"))[7][:-len(".json")]
    fsutil.read(root / "profiles" / f"{victim}.json")
    fake.delete_profile("prod2", victim)
    fake.reset_counters()
    res = util.run([util.binary(), "sync", root, "--full"], keyring.env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "prod2: synced, 249 profiles\n"
    assert calls_by_endpoint(fake) == listing_calls(249)
    check_gone(root, victim, 249)
    lines = rsync(root / "profiles", copy, "--delete")
    assert f"*deleting   {victim}.json" in lines
    assert changed_files(lines) == set()
    assert not (copy / f"{victim}.json").exists()


def test_deleted_profile_disappears_after_sighup(mounted):
    fake, m = mounted(names=("prod2", "qa4"))
    root = m.path / "prod2"
    names = sorted(os.listdir(root / "profiles"))
    os.listdir(m.path / "qa4" / "profiles")
    victim = names[3][:-len(".json")]
    fsutil.read(root / "profiles" / f"{victim}.json")
    fake.delete_profile("prod2", victim)
    fake.reset_counters()
    m.proc.send_signal(signal.SIGHUP)
    util.wait_for(lambda: f"{victim}.json" not in os.listdir(root / "profiles"),
                  timeout=20, what="the deleted profile to disappear")
    assert m.proc.poll() is None and os.path.ismount(m.path)
    util.wait_for(lambda: fsutil.api_calls(fake, "qa4") == fsutil.pages(250),
                  timeout=20, what="qa4's full listing")
    assert calls_by_endpoint(fake) == listing_calls(249)
    assert calls_by_endpoint(fake, "qa4") == listing_calls(250)
    check_gone(root, victim, 249)


def test_sync_command_runs_an_incremental_sync(mounted, keyring):
    fake, m = mounted()
    root = m.path / "prod2"
    os.listdir(root / "profiles")
    (pid,) = fake.touch("prod2", count=1)
    path = root / "profiles" / f"{pid}.json"
    old = fsutil.read(path)
    fake.reset_counters()
    res = util.run([util.binary(), "sync", root], keyring.env)
    assert res.returncode == 0, res.stderr
    assert calls_by_endpoint(fake) == {"search": 1}
    want = fake.profile("prod2", pid)
    util.wait_for(lambda: fsutil.read(path) != old, timeout=20,
                  what="the changed profile's new content")
    data = fsutil.read(path)
    assert fsutil.same_json(data, want)
    assert os.stat(path).st_size == len(data)
    assert os.stat(path).st_mtime_ns == want["modifiedTime"] * 10**6


def test_sync_command_rejects_a_path_outside_a_mount(keyring, tmp_path):
    res = util.run([util.binary(), "sync", tmp_path, "--full"], keyring.env)
    assert res.returncode != 0 and res.stderr


def test_full_sync_option_shows_deletions_by_itself(mounted):
    fake, m = mounted("-o", "ttl=1,full_sync=2")
    root = m.path / "prod2"
    victim = sorted(os.listdir(root / "profiles"))[11][:-len(".json")]
    fake.delete_profile("prod2", victim)
    util.wait_for(lambda: f"{victim}.json" not in os.listdir(root / "profiles"),
                  timeout=20, interval=0.2, what="the periodic full sync")
    assert len(os.listdir(root / "profiles")) == 249


def test_expired_cursor_resumes_where_it_was(mounted):
    fake, m = mounted("-o", "page_size=100", cursor_lifetime=0)
    m.expect_log(r"search-next|cursor")
    names = os.listdir(m.path / "prod2" / "profiles")
    assert sorted(names) == sorted(f"{p['id']}.json" for p in fake.profiles("prod2"))
    # each expired cursor costs one refused call and one resumed search; a
    # listing that started over would never finish
    assert fake.calls("prod2", "search", 200) <= fsutil.pages(250, 100) + 1
    assert fake.calls("prod2", "search-next", 200) == 0
    assert fake.calls("prod2", ("profile", "me", "bootstrap")) == 0
