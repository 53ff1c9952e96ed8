"""What the kernel keeps: files are opened by the kernel alone, so warm
reads never reach the daemon; a file whose bytes are a snapshot
(profiles.ndjson, .status.json) is an inode per snapshot, kept by its
readers and let go once the store moves on. Real mounts, libfuse's trace
(-d) for what reaches the daemon, exact call counts."""
import json
import os
import re
import sqlite3
import time
from pathlib import Path

import fsutil
import util
from fsutil import (Expected, calls_by_endpoint, read, read_unbuffered,
                    requests_since)


def test_a_warm_read_never_reaches_the_daemon(mounted):
    fake, m = mounted("-d", "-o", "ttl=3600")
    m.expect_log(r"debug: ")
    root = m.path / "prod2"
    files = [root / "profiles" / name for name in os.listdir(root / "profiles")]
    files += [root / "me.json", root / "profiles.ndjson"]
    first = [read_unbuffered(path) for path in files]
    fake.reset_counters()
    mark = len(m.log())
    second = [read_unbuffered(path) for path in files if path.suffix == ".json"]
    assert requests_since(m, mark) == []
    assert second == first[:len(second)]
    # profiles.ndjson is looked up at each open (its entry is not cached)
    # and its pages stay while the snapshot is the same
    assert read_unbuffered(root / "profiles.ndjson") == first[-1]
    assert requests_since(m, mark) == ["LOOKUP"]
    assert calls_by_endpoint(fake) == {}


def test_an_open_ndjson_keeps_its_snapshot_the_next_open_sees_the_change(mounted):
    fake, m = mounted("-o", "ttl=1")
    root = m.path / "prod2"
    path = root / "profiles.ndjson"
    with open(path, "rb") as reader:
        head = reader.read(100)
        done = time.monotonic()
        (pid,) = fake.touch("prod2", count=1)
        fake.put_profile("prod2", {"id": "new_after_listing", "profiles": [],
                                   "createdTime": 1700000000000})
        fsutil.wait_past(1.2, done)
        os.listdir(root / "profiles")  # the sync that ttl asks for
        after = read(path)
        before = head + reader.read()
        assert os.fstat(reader.fileno()).st_size == len(before)
    assert len(before.splitlines()) == 250
    assert len(after.splitlines()) == 251
    assert os.stat(path).st_size == len(after)
    fsutil.check_ndjson(after, Expected(fake))
    old = {json.loads(line)["id"]: line for line in before.splitlines()}
    new = {json.loads(line)["id"]: line for line in after.splitlines()}
    assert old[pid] != new[pid]
    assert {k for k in new if old.get(k) != new[k]} == {pid, "new_after_listing"}


def checkpoint(path):
    """Whether the store's WAL could be reset: no reader holds an old
    snapshot (PRAGMA wal_checkpoint(TRUNCATE) is not busy)."""
    db = sqlite3.connect(path, timeout=0)
    try:
        return db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        db.close()


def test_a_snapshot_nobody_reads_is_let_go_when_the_store_changes(mounted, keyring):
    """A looked-up profiles.ndjson holds a read transaction; once a sync
    changes the store the kernel is told to drop it, forgets it, and the
    WAL can be reset again."""
    fake, m = mounted("-o", "ttl=1")
    store = Path(keyring.env["XDG_CACHE_HOME"]) / "sprinklrfs" / "prod2.sqlite"
    root = m.path / "prod2"
    read(root / "profiles.ndjson")
    done = time.monotonic()
    fake.touch("prod2", count=3)
    fsutil.wait_past(1.2, done)
    os.listdir(root / "profiles")
    util.wait_for(lambda: checkpoint(store), timeout=10,
                  what="the old snapshot to be let go")
    assert len(read(root / "profiles.ndjson").splitlines()) == 250


def reclaim(m, mark):
    """Asks the kernel to reclaim its entries once more (it keeps what was
    used last for a pass or two) and returns how many node ids it has
    forgotten since the log's length was mark (a line each in the trace)."""
    Path("/proc/sys/vm/drop_caches").write_text("2\n")
    return len(re.findall(r"debug: FORGET \d+/\d+", m.log()[mark:]))


def test_what_the_kernel_reclaims_is_looked_up_again_exactly(mounted, tmp_path):
    """Under memory pressure the kernel reclaims its entries (here through
    drop_caches, as root) and sends FORGETs, in batches: the daemon frees
    the inodes of directories (links and profiles have none) and answers
    the next walk exactly, with no call. (The memory_limit tests drive the
    same path from the daemon's side, the sanitizer run only this one.)"""
    # the daemon's own upkeep (memory_limit) stays out of it: a sanitizer
    # build is resident far past the default bound
    fake, m = mounted("-d", "-o", "ttl=3600,memory_limit=8192", profiles=1000)
    m.expect_log(r"debug: ")
    root = m.path / "prod2"
    fsutil.rsync(root, tmp_path / "copy")
    entries = sum(len(dirs) + len(names) for _, dirs, names in os.walk(root))
    fake.reset_counters()
    for _ in range(2):
        mark = len(m.log())
        util.wait_for(lambda: reclaim(m, mark) >= entries // 2, timeout=20,
                      interval=0.2, what="the kernel to forget its entries")
        assert fsutil.rsync(root, tmp_path / "copy", "--delete",
                            "--exclude=/.status.json") == []
        assert "READDIRPLUS" in requests_since(m, mark)
    assert calls_by_endpoint(fake) == {}
    fsutil.check_tree(root, Expected(fake))


def test_a_warm_ls_l_is_the_kernels_alone(mounted):
    """profiles/ and channels/TYPE/ keep their entries in the kernel from
    one open to the next while the listing is unchanged, and links their
    targets: the daemon sees the opens only. (Memory pressure, or another
    process's drop_caches, may make the kernel forget some at any time:
    one of three passes must be the kernel's alone.)"""
    fake, m = mounted("-d", "-o", "ttl=3600")
    m.expect_log(r"debug: |error: -38 ")
    root = m.path / "prod2"
    channels = [root / "channels" / kind for kind in os.listdir(root / "channels")]
    dirs = [root / "profiles"] + channels
    first = [fsutil.ls_l(d) for d in dirs]
    fake.reset_counters()
    seen = []
    for _ in range(3):
        mark = len(m.log())
        assert [fsutil.ls_l(d) for d in dirs] == first
        seen.append(set(requests_since(m, mark)))
        if seen[-1] <= {"OPENDIR", "RELEASEDIR"}:
            break
    assert seen[-1] <= {"OPENDIR", "RELEASEDIR"}, seen
    assert calls_by_endpoint(fake) == {}


def test_a_changed_listing_shows_in_the_next_ls(mounted):
    fake, m = mounted("-o", "ttl=1")
    profiles = m.path / "prod2" / "profiles"
    before = set(os.listdir(profiles))
    assert set(os.listdir(profiles)) == before
    done = time.monotonic()
    fake.put_profile("prod2", {"id": "new_after_listing", "profiles": [],
                               "createdTime": 1700000000000})
    fsutil.wait_past(1.2, done)
    fake.reset_counters()
    assert set(os.listdir(profiles)) - before == {"new_after_listing.json"}
    assert calls_by_endpoint(fake) == {"search": 1}
