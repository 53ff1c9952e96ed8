"""Many readers at once: eight threads reading profile files ten thousand
times each without an error or an API call, and an unmount while readers
run that ends the daemon cleanly and leaves no reader hanging."""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import fsutil
import util
from fsutil import api_calls, read

READERS = 8
READS = 10000


def snapshot(root):
    """{file name: bytes} of every profile, read once."""
    profiles = root / "profiles"
    return {name: read(profiles / name) for name in os.listdir(profiles)}


def test_eight_readers_ten_thousand_reads_each(mounted):
    fake, m = mounted("-o", "ttl=3600", profiles=250)
    root = m.path / "prod2"
    fsutil.enter(fake, m)
    want = snapshot(root)
    assert len(want) == 250
    names = sorted(want)
    errors, done = [], [0] * READERS

    def reader(n):
        rng = random.Random(n)
        profiles = root / "profiles"
        for _ in range(READS):
            name = rng.choice(names)
            try:
                fd = os.open(profiles / name, os.O_RDONLY)
                try:
                    data = os.read(fd, len(want[name]) + 1)
                finally:
                    os.close(fd)
            except OSError as err:
                errors.append((name, repr(err)))
                continue
            if data != want[name]:
                errors.append((name, "other bytes"))
            done[n] += 1

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors[:10] == []
    assert done == [READS] * READERS
    assert api_calls(fake) == 0
    for name in names[::25]:
        assert fsutil.same_json(want[name], fake.profile("prod2", name[:-len(".json")]))


def test_unmount_while_readers_run(mounted):
    fake, m = mounted(profiles=250)
    root = m.path / "prod2"
    fsutil.enter(fake, m)
    names = sorted(os.listdir(root / "profiles"))
    stop = threading.Event()
    reads, endings = [0] * READERS, [None] * READERS

    def reader(n):
        rng = random.Random(n)
        what = [lambda: read(root / "profiles" / rng.choice(names)),
                lambda: os.stat(root / "profiles" / rng.choice(names)),
                lambda: json.loads(read(root / ".status.json")),
                lambda: read(root / "profiles.ndjson")[:1]]
        while not stop.is_set():
            try:
                rng.choice(what)()
            except (OSError, ValueError) as err:
                endings[n] = repr(err)
                return
            reads[n] += 1
            # a pause between operations: a mount with a file open or a
            # lookup under way is busy, and fusermount3 -u refuses it
            stop.wait(0.002)
        endings[n] = "stopped"

    threads = [threading.Thread(target=reader, args=(n,), daemon=True)
               for n in range(READERS)]
    for t in threads:
        t.start()
    try:
        util.wait_for(lambda: min(reads) >= 50, timeout=30,
                      what="every reader to be reading")
        fsutil.unmount_busy(m)
        assert not os.path.ismount(m.path)
        for t in threads:
            t.join(timeout=20)
        assert not any(t.is_alive() for t in threads), endings
    finally:
        stop.set()
    # every reader ran into the unmount and stopped with an error
    assert all(ending not in (None, "stopped") for ending in endings), endings


WAITER = """
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGUSR1, lambda *_: None)
fd = libc.open(sys.argv[1].encode(), os.O_RDONLY)
print(fd, ctypes.get_errno(), flush=True)
"""


def blocked_in_fuse(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "wait_answer" in f.read()
    except OSError:
        return False


def test_a_waiting_reader_can_be_interrupted_without_cancelling_the_sync(mounted):
    fake, m = mounted("-o", "ttl=1", profiles=250)
    m.expect_log(r"\bprod2\b")
    root = m.path / "prod2"
    fsutil.enter(fake, m)
    os.stat(root / "profiles.ndjson")
    since = time.monotonic()
    profiles = os.open(root / "profiles", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fsutil.wait_past(1, since)
        # the sync that ttl asks for takes a few seconds; the first reader
        # runs it, a second one waits for it and is interrupted
        fake.fault("latency", 1, env="prod2", endpoint="search", seconds=4)
        listed = []
        leader = threading.Thread(target=lambda: listed.append(
            os.stat(root / "profiles") and os.listdir(profiles)))
        leader.start()
        util.wait_for(lambda: blocked_in_fuse(leader.native_id), timeout=10,
                      what="the sync to be under way")
        waiter = subprocess.Popen([sys.executable, "-c", WAITER,
                                   str(root / "profiles.ndjson")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            util.wait_for(lambda: blocked_in_fuse(waiter.pid), timeout=10,
                          what="the second reader to wait for the sync")
            waiter.send_signal(signal.SIGUSR1)
            out, _ = waiter.communicate(timeout=10)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
        leader.join(timeout=30)
    finally:
        os.close(profiles)
    assert out.split() == ["-1", str(errno.EINTR)]
    assert not leader.is_alive()
    assert len(listed[0]) == 250
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
