"""The on-disk store: remounts, crashes, two mounts, the first listing in the
background, partitioned listings.

Every environment has an SQLite store under $XDG_CACHE_HOME/sprinklrfs (or
-o cache_dir). Real mounts, the real fake over HTTPS, exact call counts.
"""
import errno
import os
import re
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

import fsutil
import util
from fsutil import (api_calls, errno_of, kill_daemon, pages, read, store_path,
                    store_query, wait_complete)


def listing(fake):
    return api_calls(fake, endpoint=("search", "search-next"))


def integrity(path):
    return store_query(path, "PRAGMA integrity_check")


def count_profiles(path):
    return store_query(path, "SELECT count(*) FROM profile")


def test_store_is_private_and_where_documented(mounted, keyring):
    fake, m = mounted(profiles=30)
    fsutil.enter(fake, m)
    path = store_path(keyring)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fsutil.status(m)["sync"]["store"] == str(path)


def test_a_remount_serves_the_store_and_catches_up_with_one_call(
        mounted, mount, tmp_path):
    fake, m = mounted("-o", "page_size=50", profiles=250)
    fsutil.rsync(m.path / "prod2" / "profiles", tmp_path / "copy")
    m.unmount()
    changed = fake.touch("prod2", count=2)
    fake.reset_counters()
    m = mount("-o", "page_size=50", name="again")
    assert len(os.listdir(m.path / "prod2" / "profiles")) == 250
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    for pid in changed:
        assert fsutil.same_json(read(m.path / "prod2" / "profiles" / f"{pid}.json"),
                                fake.profile("prod2", pid))
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_remount_and_rsync_with_nothing_changed_costs_one_call(
        mounted, mount, tmp_path):
    """Profiles and documents come from the store; the one call is the
    incremental search that catches up."""
    fake, m = mounted(profiles=120)
    copy = tmp_path / "copy"
    fsutil.rsync(m.path / "prod2", copy, "--exclude=/.status.json")
    m.unmount()
    fake.reset_counters()
    m = mount(name="again")
    assert fsutil.rsync(m.path / "prod2", copy, "--exclude=/.status.json") == []
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    fsutil.check_tree(copy, fsutil.Expected(fake))


def test_documents_older_than_doc_ttl_are_fetched_again_after_a_remount(mounted, mount):
    fake, m = mounted("-o", "ttl=1,doc_ttl=1", profiles=20)
    me = read(m.path / "prod2" / "me.json")
    m.unmount()
    fsutil.wait_past(1, time.monotonic())
    m = mount("-o", "ttl=1,doc_ttl=1", name="again")
    fsutil.enter(fake, m)
    assert read(m.path / "prod2" / "me.json") == me
    assert fsutil.calls_by_endpoint(fake) == {"me": 1}


def test_kill_9_during_the_first_listing_loses_at_most_a_page(mounted, keyring, mount):
    """Killed three times in the middle of a listing: the store stays sound,
    keeps every page it had committed, and each mount resumes from there."""
    n, size = 300, 10
    opts = ("-o", f"page_size={size}")
    fake, m = mounted(*opts, profiles=n)
    path = store_path(keyring)
    stored = 0
    for round_ in range(3):
        # each page waits 0.2 s at the fake: the kill lands mid-listing
        fake.fault("latency", 1000, env="prod2", endpoint="search-next",
                   seconds=0.2)
        # the reader itself fails (ENOTCONN) when the daemon is killed
        threading.Thread(target=errno_of, daemon=True,
                         args=(lambda: os.listdir(m.path / "prod2"),)).start()
        target = stored + 3 * size
        util.wait_for(lambda: path.exists() and count_profiles(path) >= target,
                      timeout=30, what="three more pages in the store")
        kill_daemon(m)
        fake.clear_faults()
        assert integrity(path) == "ok"
        stored = count_profiles(path)
        assert stored >= target
        m = mount(*opts, name=f"mnt{round_ + 1}")
    fake.reset_counters()
    wait_complete(keyring, m)
    # resumed from the committed pages: the rest, a page lost in flight,
    # and the resumed search's first page, which repeats the last time seen
    assert listing(fake) <= pages(n - stored, size) + 2
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))
    assert integrity(path) == "ok"


def test_two_mounts_of_one_environment_list_it_once(mounted, keyring, mount):
    n, size = 200, 20
    opts = ("-o", f"page_size={size}")
    fake, a = mounted(*opts, profiles=n)
    b = mount(*opts, name="second")
    fake.fault("latency", 1000, env="prod2", endpoint="search-next", seconds=0.05)
    results = {}

    def wait(m):
        results[m.path] = util.run([util.binary(), "sync", "--wait", m.path / "prod2"],
                                   keyring.env)

    threads = [threading.Thread(target=wait, args=(m,)) for m in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "sync --wait still runs"
    assert set(results) == {a.path, b.path}
    assert all(r.returncode == 0 for r in results.values())
    assert listing(fake) == pages(n, size)
    expected = fsutil.Expected(fake)
    fsutil.check_tree(a.path / "prod2", expected)
    fsutil.check_tree(b.path / "prod2", expected)
    assert listing(fake) == pages(n, size)
    assert integrity(store_path(keyring)) == "ok"


def test_the_first_listing_runs_in_the_background(mounted, keyring):
    """Before the first listing completes, ls shows what is synced so far,
    profiles.ndjson refuses with EAGAIN rather than being partial, and
    .status.json shows the progress; sync --wait blocks until complete."""
    n, size = 100, 10
    fake, m = mounted("-o", f"page_size={size},read_timeout=3", profiles=n)
    fake.fault("latency", 1000, env="prod2", endpoint="search-next", seconds=1.0)
    names = os.listdir(m.path / "prod2" / "profiles")
    assert size <= len(names) < n
    assert errno_of(lambda: read(m.path / "prod2" / "profiles.ndjson")) == errno.EAGAIN
    sync = fsutil.status(m)["sync"]
    assert sync["state"] == "listing"
    assert sync["progress"]["profiles_synced"] >= len(names)
    assert 0 < sync["progress"]["fraction"] < 1
    fake.clear_faults()
    out = wait_complete(keyring, m)
    assert out.strip() == f"prod2: complete, {n} profiles"
    assert listing(fake) == pages(n, size)
    sync = fsutil.status(m)["sync"]
    assert sync["state"] == "complete" and sync["progress"] is None
    expected = fsutil.Expected(fake)
    fsutil.check_ndjson(read(m.path / "prod2" / "profiles.ndjson"), expected)
    fsutil.check_tree(m.path / "prod2", expected)


def test_sync_wait_on_a_complete_store_costs_nothing(mounted, keyring):
    fake, m = mounted(profiles=40)
    fsutil.enter(fake, m)
    assert wait_complete(keyring, m).strip() == "prod2: complete, 40 profiles"
    assert api_calls(fake) == 0


def test_sync_wait_reports_a_failed_first_listing(mounted, keyring):
    fake, m = mounted("-o", "retries=1", profiles=40)
    m.expect_log(r"\bprod2\b")
    fake.fault("status", 1000, env="prod2", endpoint="search", status=500)
    res = util.run([util.binary(), "sync", "--wait", m.path / "prod2"], keyring.env)
    assert res.returncode == 1
    assert "sync failed" in res.stderr
    fake.clear_faults()
    assert wait_complete(keyring, m).strip() == "prod2: complete, 40 profiles"


def test_partitioned_listing_follows_several_cursors(mounted, keyring):
    n, size, parts = 400, 50, 4
    fake, m = mounted("-o", f"page_size={size},partitions={parts}", profiles=n)
    wait_complete(keyring, m)
    calls = fsutil.calls_by_endpoint(fake)
    # one probe for the oldest time, then each slice's pages (the last page
    # of each slice may be partial)
    assert calls["search"] == 1 + parts
    total = calls["search"] + calls.get("search-next", 0)
    assert pages(n, size) + 1 <= total <= pages(n, size) + parts
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_an_unusable_store_is_moved_aside_and_rebuilt(keyring, make_fake, mount):
    fake = make_fake(names=("prod2",), profiles=30, **fsutil.UNLIMITED)
    util.login(fake, keyring.env, "prod2")
    path = store_path(keyring)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database\n" * 100)
    m = mount()
    m.expect_log(r"not a usable store")
    assert len(os.listdir(m.path / "prod2" / "profiles")) == 30
    assert Path(str(path) + ".broken").read_bytes().startswith(b"not a database")
    assert integrity(path) == "ok"
    fsutil.wait_log(m, r"warning: prod2: .* not a usable store")


def test_cache_dir_option(mounted, keyring, tmp_path):
    fake, m = mounted("-o", f"cache_dir={tmp_path}/c", profiles=20)
    fsutil.enter(fake, m)
    assert (tmp_path / "c" / "prod2.sqlite").exists()
    assert not store_path(keyring).exists()


@pytest.mark.resident_memory
def test_links_cost_the_daemon_no_inode_and_the_memory_limit_does_not_spin(
        mounted, keyring, tmp_path):
    """A link, a list member's or a channel id's, has no inode in the daemon,
    as a profile has none: its node id says where it is (fs/fuse/inodes.h).
    Under a memory_limit below what the daemon needs anyway, the kernel is
    told to forget its entries below channels/ and lists/ once; walking
    every link of 20,000 profiles three times after that (as rsync does,
    from inside the environment's directory) holds no more inodes, so the
    kernel is not told again, and the tree stays exact."""
    fake, m = mounted("-d", "-o", "memory_limit=16,ttl=3600", profiles=20000)
    m.expect_log(r"debug: ")  # libfuse's trace, ENOSYS answers included
    fsutil.wait_complete(keyring, m)
    forgot = r"memory: \d+ MiB resident after the kernel forgot its entries"
    told = r"memory: \d+ MiB resident, over \d+ MiB: the kernel is told"
    util.wait_for(lambda: re.search(forgot, m.log()), timeout=10,
                  what="the kernel to forget once")
    root = m.path / "prod2"
    kept = [root / "profiles" / name
            for name in sorted(os.listdir(root / "profiles"))[:500]]
    first = [fsutil.read_unbuffered(path) for path in kept]
    mark = len(m.log())
    links = 0
    inside = os.open(root, os.O_RDONLY | os.O_DIRECTORY)  # as rsync's cwd
    try:
        for _ in range(3):
            for top in ("channels", "lists"):
                for _, _, names, fd in os.fwalk(top, dir_fd=inside):
                    for name in names:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        if stat.S_ISLNK(st.st_mode):
                            os.readlink(name, dir_fd=fd)
                            links += 1
    finally:
        os.close(inside)
    assert links > 3 * 20000
    walked = m.log()[mark:]
    read_links = [int(node) for node in re.findall(
        r"opcode: READLINK \(\d+\), nodeid: (\d+)", walked)]
    assert read_links, "no READLINK reached the daemon"
    assert all(node >> 62 == 1 for node in read_links)
    # the daemon judged its memory every second of the walks
    assert not re.search(told, walked)
    # profiles' pages are the kernel's to keep (see test_fs_cache.py)
    mark = len(m.log())
    assert [fsutil.read_unbuffered(path) for path in kept] == first
    assert {op for op, _ in fsutil.profile_requests_since(m, mark)} <= {"READ"}
    fsutil.rsync(root, tmp_path / "copy")
    fsutil.check_tree(root, fsutil.Expected(fake))
    res = subprocess.run(["rsync", "-a", "--delete", "--itemize-changes",
                          "--exclude=/.status.json", f"{root}/",
                          str(tmp_path / "copy")],
                         capture_output=True, text=True, check=True)
    assert res.stdout == ""
    assert not re.search(told, m.log()[mark:])


def test_past_the_memory_limit_the_daemon_never_walks_its_own_mount(
        mounted, keyring):
    """Telling the kernel to forget never makes the daemon a user of its
    own mount: while one of its lookups lasted there, an unmount would fail
    with EBUSY. With nothing looked up below channels/ and lists/, there is
    nothing beneath them to reach by a path."""
    fake, m = mounted("-d", "-o", "memory_limit=16", profiles=2000)
    m.expect_log(r"debug: ")
    wait_complete(keyring, m)
    assert len(os.listdir(m.path / "prod2" / "profiles")) == 2000
    told = r"memory: \d+ MiB resident, over \d+ MiB: the kernel is told"
    util.wait_for(lambda: re.search(told, m.log()), timeout=20,
                  what="the kernel to be told to forget")
    senders = re.findall(r"opcode: \w+ \(\d+\), nodeid: \d+, insize: \d+, "
                         r"pid: (\d+)", m.log())
    # a request names the thread that made it
    threads = set(os.listdir(f"/proc/{m.proc.pid}/task"))
    assert senders and not threads & set(senders)
    util.fusermount_u(m.path).check_returncode()
    m.finish()


def test_a_store_failing_under_the_mount_gives_eio_and_no_call(mounted, keyring):
    """A store that cannot be read (here: its pages overwritten behind the
    mount's back) makes reads fail with EIO and says why in .status.json;
    a profile is not taken for unknown and fetched again."""
    fake, m = mounted(profiles=3000)
    m.expect_log(r"cannot read the store")
    root = m.path / "prod2"
    names = sorted(os.listdir(root / "profiles"))
    path = store_path(keyring)
    db = sqlite3.connect(path)  # everything into the main file first
    try:
        assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        db.close()
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        for off in range(2 * 4096, size, 4096):
            f.seek(off)
            f.write(b"\xa5" * 4096)
    fake.reset_counters()
    for name in names[-20:]:
        assert errno_of(lambda: read(root / "profiles" / name)) == errno.EIO
    assert fsutil.calls_by_endpoint(fake) == {}
    assert "cannot read the store" in fsutil.status(m)["last_error"]
