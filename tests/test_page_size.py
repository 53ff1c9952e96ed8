"""page_size=auto: pages as large as the server takes, learned once.

The default asks for 1000 profiles per page; a 400 to the first page of a
search halves the size (1000, 500, 250, 125, 100), and the size the server
accepted is kept in the store, so that a remount asks for it at once. Fakes
with a maximum of 100, 250 and 1000, and one that silently caps at 250; the
calls are counted at the fake: ceil(N / accepted) pages plus one 400 per
size refused.
"""
import errno
import os
import time

import pytest

import fsutil
import util
from fsutil import calls_by_endpoint, errno_of, listing_calls, pages

N = 1200
# the sizes auto asks for, in order, until one is accepted
ASKED = (1000, 500, 250, 125, 100)


def refused(maximum):
    """The 400s auto meets at a server whose maximum is `maximum`."""
    return len([size for size in ASKED if size > maximum])


def full_sync(keyring, m, env="prod2"):
    res = util.run([util.binary(), "sync", m.path / env, "--full"], keyring.env)
    assert res.returncode == 0, res.stderr


def wait_complete(keyring, m, env="prod2"):
    res = util.run([util.binary(), "sync", "--wait", m.path / env], keyring.env)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("maximum", [100, 250, 1000])
def test_auto_learns_the_largest_page_the_server_takes(mounted, mount, keyring,
                                                      maximum):
    fake, m = mounted(profiles=N, max_page_size=maximum)
    root = m.path / "prod2"
    assert len(os.listdir(root / "profiles")) == N
    probes = refused(maximum)
    assert fake.calls("prod2", "search", 400) == probes
    assert fsutil.api_calls(fake, status=200) == pages(N, maximum)
    want = listing_calls(N, maximum)
    want["search"] += probes
    assert calls_by_endpoint(fake) == want
    assert fsutil.status(m)["sync"]["page_size"] == maximum
    fsutil.check_tree(root, fsutil.Expected(fake))

    # a remount (and its full listing) asks for the learned size at once
    m.unmount()
    fake.reset_counters()
    m = mount(name="again")
    os.stat(m.path / "prod2")           # the incremental sync, one page
    assert calls_by_endpoint(fake) == {"search": 1}
    assert fsutil.status(m)["sync"]["page_size"] == maximum
    fake.reset_counters()
    full_sync(keyring, m)               # and the documents check_tree read
    assert calls_by_endpoint(fake) == dict(listing_calls(N, maximum), **fsutil.DOCUMENTS)
    assert fake.calls("prod2", "search", 400) == 0


def test_auto_follows_a_server_that_caps_pages_silently(mounted, mount, keyring):
    """Asked for 1000, it answers 250 and a cursor: no 400, nothing to
    probe; the listing follows the cursors."""
    fake, m = mounted(profiles=N, max_page_size=250, max_page_size_answer="cap")
    root = m.path / "prod2"
    assert len(os.listdir(root / "profiles")) == N
    assert calls_by_endpoint(fake) == listing_calls(N, 250)
    assert fake.calls("prod2", "search", 400) == 0
    assert fsutil.status(m)["sync"]["page_size"] == 1000
    fsutil.check_tree(root, fsutil.Expected(fake))
    m.unmount()
    fake.reset_counters()
    m = mount(name="again")
    fsutil.enter(fake, m)
    full_sync(keyring, m)               # and the documents check_tree read
    assert calls_by_endpoint(fake) == dict(listing_calls(N, 250), **fsutil.DOCUMENTS)


def test_a_second_mount_asks_for_what_the_first_learned(mounted, mount, keyring):
    """Two mounts share the store: one that was up before the other learned
    the size finds it there at its next search."""
    fake, m = mounted(profiles=N, max_page_size=250)
    other = mount(name="other")
    wait_complete(keyring, m)
    assert fake.calls("prod2", "search", 400) == refused(250)
    fake.reset_counters()
    os.stat(other.path / "prod2")       # a complete store: one incremental page
    assert calls_by_endpoint(fake) == {"search": 1}
    fake.reset_counters()
    full_sync(keyring, other)
    assert calls_by_endpoint(fake) == listing_calls(N, 250)
    assert fsutil.status(other)["sync"]["page_size"] == 250


def test_an_explicit_page_size_is_asked_as_it_is(mounted):
    """page_size=500 at a server that takes 250: one 400, EIO, no probing."""
    fake, m = mounted("-o", "page_size=500", profiles=300, max_page_size=250)
    m.expect_log(r"\bprod2\b.*search")
    os.stat(m.path / "prod2")           # its attributes do not need the listing
    fake.reset_counters()
    assert errno_of(lambda: os.stat(m.path / "prod2" / "profiles")) == errno.EIO
    assert calls_by_endpoint(fake) == {"search": 1}
    assert fake.calls("prod2", "search", 400) == 1
    assert fsutil.status(m)["sync"]["page_size"] == 500


def test_partitions_learn_the_page_size_once(mounted, keyring):
    """The probe for the oldest time learns the size before the partitions
    start, so they do not each meet the 400s."""
    parts = 4
    fake, m = mounted("-o", f"partitions={parts}", profiles=N, max_page_size=250)
    wait_complete(keyring, m)
    calls = calls_by_endpoint(fake)
    assert fake.calls("prod2", "search", 400) == refused(250)
    assert fake.calls("prod2", "search", 200) == 1 + parts
    listed = fake.calls("prod2", ("search", "search-next"), 200) - 1
    assert pages(N, 250) <= listed <= pages(N, 250) + parts - 1, calls
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_the_incremental_sync_asks_for_the_learned_size(mounted):
    fake, m = mounted("-o", "ttl=1", profiles=N, max_page_size=250)
    root = m.path / "prod2"
    os.listdir(root / "profiles")
    newest = fsutil.Expected(fake).newest()
    listed = time.monotonic()
    fake.touch("prod2", count=600)
    # the incremental search asks for modifiedTime >= the newest seen
    since = [p for p in fake.profiles("prod2") if p["modifiedTime"] >= newest]
    fsutil.wait_past(1, listed)
    fake.reset_counters()
    os.listdir(root / "profiles")
    assert calls_by_endpoint(fake) == listing_calls(len(since), 250)
    assert fake.calls("prod2", "search", 400) == 0
    fsutil.check_tree(root, fsutil.Expected(fake))


@pytest.mark.parametrize("value", ["0", "1001", "-5", "big", "", "auto1"])
def test_page_size_is_checked(env, value):
    res = util.run([util.binary(), "mnt", "-o", f"page_size={value}"], env)
    assert res.returncode == 1
    assert "-o page_size takes 1 to 1000, or auto" in res.stderr
