"""Resume points that always move: bulk imports whose profiles share one
modifiedTime over several pages, ties in any order, cursors that expire after
every page (the normal case once the quota makes a listing wait), crashes,
and the incremental sync's single call.

Real mounts, the real fake over HTTPS, exact call counts from its counters.
"""
import math
import os
import threading
import time

import pytest

import fsutil
import util
from fsutil import errno_of, kill_daemon, store_path, store_query, wait_complete

N, BATCH, PAGE = 400, 25, 10
BATCHES = N // BATCH
# the mount paces nothing: these tests count calls, and the pacer would only
# stretch them to 8 a second (test_quota.py tests pacing)
UNPACED = "rate_per_second=0,rate_per_hour=0"
OPTS = ("-o", f"page_size={PAGE},{UNPACED}")
SEARCH = ("search", "search-next")


def bulk_fake(make_fake, keyring, **options):
    """A fake of N profiles imported in BATCHES batches of BATCH, each batch
    one modifiedTime, ties in a hash order; logged in, counters reset."""
    fake = make_fake(names=("prod2",), profiles=N, tie_order="hash",
                     **dict(fsutil.UNLIMITED, **options))
    for _ in range(BATCHES):
        fake.touch("prod2", count=BATCH)
    times = {p["modifiedTime"] for p in fake.profiles("prod2")}
    assert len(times) == BATCHES
    util.login(fake, keyring.env, "prod2")
    fake.reset_counters()
    return fake


def by_id_pages():
    return math.ceil(BATCH / PAGE)


def expired_cost(batches):
    """(pages, resumes) of listing `batches` bulk batches with cursors that
    expire after every page. Per batch: the page by time that shows it
    (all of one time), a refused next page, then the batch again by id,
    each page of it but the last followed by a refused next page; at the
    end, one page asks for what follows the last batch."""
    pages = batches * (1 + by_id_pages()) + 1
    resumes = batches * (1 + by_id_pages() - 1)
    return pages, resumes


def check_listing_cost(fake, status, batches=BATCHES, extra_pages=0):
    pages, resumes = expired_cost(batches)
    assert fake.calls("prod2", SEARCH, 200) == pages + extra_pages
    assert fake.calls("prod2", "search-next", status) == resumes
    assert fake.calls("prod2", SEARCH) == pages + extra_pages + resumes


@pytest.mark.parametrize("status", [400, 404, 410])
def test_bulk_batches_list_completely_with_cursors_expiring_every_page(
        keyring, make_fake, mount, status):
    fake = bulk_fake(make_fake, keyring, cursor_lifetime=0,
                     cursor_expired_status=status)
    m = mount(*OPTS)
    wait_complete(keyring, m)
    check_listing_cost(fake, status)
    assert fake.calls("prod2", "search", 400) == 0
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))
    assert fsutil.status(m)["sync"]["state"] == "complete"


def test_partitions_resume_inside_their_range(keyring, make_fake, mount):
    parts = 3
    fake = bulk_fake(make_fake, keyring, cursor_lifetime=0)
    m = mount("-o", f"page_size={PAGE},partitions={parts},{UNPACED}")
    wait_complete(keyring, m)
    # one probe for the oldest time, and each partition's last page
    check_listing_cost(fake, 400, extra_pages=1 + parts - 1)
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


SLOW = 10000
AFTER = "SELECT value FROM state WHERE key = 'part.0.after'"


def remaining_cost(path, fake):
    """(pages, resumes) to finish from the resume point the store holds.
    Every committed page leaves a batch being read by id (phase 2): the
    page by time that shows a batch (no id yet: the batch by id from its
    start), or one of the batch's pages by id (the rest of it by id)."""
    def state(key):
        return store_query(path, f"SELECT value FROM state WHERE key = 'part.0.{key}'")

    assert state("phase") == 2
    at, pos = state("resume"), state("after")
    batch = sorted(p["id"] for p in fake.profiles("prod2") if p["modifiedTime"] == at)
    if pos:
        after = store_query(path, f"SELECT id FROM profile WHERE rowid = {pos}")
        batch = [pid for pid in batch if pid > after]
    rest = math.ceil(len(batch) / PAGE)
    later = len({p["modifiedTime"] for p in fake.profiles("prod2") if p["modifiedTime"] > at})
    pages, resumes = expired_cost(later)
    return pages + max(1, rest), resumes + max(0, rest - 1)


def test_a_crash_inside_a_bulk_batch_resumes_and_completes(keyring, make_fake, mount):
    fake = bulk_fake(make_fake, keyring, cursor_lifetime=0)
    # every call waits 0.1 s at the fake: the kill lands mid-listing
    fake.fault("latency", SLOW, env="prod2", seconds=0.1)
    m = mount(*OPTS)
    path = store_path(keyring)
    threading.Thread(target=errno_of, daemon=True,
                     args=(lambda: os.listdir(m.path / "prod2"),)).start()
    # killed after six batches, inside a batch being read by id
    util.wait_for(lambda: path.exists() and
                  store_query(path, "SELECT count(*) FROM profile") >= 6 * BATCH + 5 and
                  store_query(path, AFTER) > 0,
                  timeout=60, what="six batches and an id to resume after in the store")
    kill_daemon(m)
    # the call the daemon had in flight is answered (and counted) all the same
    util.wait_for(lambda: fake.calls("prod2") ==
                  SLOW - fake.control("GET", "faults")["pending"],
                  timeout=10, what="the fake to answer the calls it received")
    fake.clear_faults()
    assert store_query(path, "PRAGMA integrity_check") == "ok"
    pages, resumes = remaining_cost(path, fake)
    fake.reset_counters()
    m = mount(*OPTS, name="again")
    wait_complete(keyring, m)
    assert fake.calls("prod2", SEARCH, 200) == pages
    assert fake.calls("prod2", "search-next", 400) == resumes
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_incremental_sync_after_a_bulk_batch_costs_one_call(keyring, make_fake, mount):
    fake = bulk_fake(make_fake, keyring, cursor_lifetime=0)
    m = mount("-o", f"page_size={PAGE},ttl=1,{UNPACED}")
    wait_complete(keyring, m)
    profiles = m.path / "prod2" / "profiles"
    newest = max(p["modifiedTime"] for p in fake.profiles("prod2"))
    last_batch = sorted(p["id"] for p in fake.profiles("prod2")
                        if p["modifiedTime"] == newest)
    assert len(last_batch) == BATCH
    # nothing changed: one search, empty, however large the newest batch
    fsutil.wait_past(1.2, time.monotonic())
    fake.reset_counters()
    assert len(os.listdir(profiles)) == N
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    # a profile of the batch modified, and one indexed late at the batch's
    # time with an id above the batch's: both come with one search
    done = time.monotonic()
    (touched,) = fake.touch("prod2", ids=[last_batch[3]])
    late = dict(fake.profile("prod2", last_batch[0]), id="f" * 24, profiles=[],
                modifiedTime=newest)
    fake.put_profile("prod2", late, keep_time=True)
    fsutil.wait_past(1.2, done)
    fake.reset_counters()
    assert len(os.listdir(profiles)) == N + 1
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    for pid in (touched, late["id"]):
        data = fsutil.read(profiles / f"{pid}.json")
        assert fsutil.same_json(data, fake.profile("prod2", pid))
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_short_pages_and_expiring_cursors(keyring, make_fake, mount):
    fake = bulk_fake(make_fake, keyring, cursor_lifetime=0, short_pages=True)
    m = mount(*OPTS)
    wait_complete(keyring, m)
    # every refused next page is followed by one new search, and nothing
    # is asked twice in a row
    resumes = fake.calls("prod2", "search-next", 400)
    assert resumes > 0 and fake.calls("prod2", "search-next", 200) == 0
    assert fake.calls("prod2", "search", 200) > resumes
    assert fake.calls("prod2", "search") == fake.calls("prod2", "search", 200)
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_an_empty_last_page_ends_the_listing(keyring, make_fake, mount):
    fake = bulk_fake(make_fake, keyring, empty_last_page=True)
    m = mount(*OPTS)
    wait_complete(keyring, m)
    # with live cursors the bulk batches cost nothing more: N / PAGE full
    # pages, then the empty one the last cursor leads to
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "search-next": N // PAGE}
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))
