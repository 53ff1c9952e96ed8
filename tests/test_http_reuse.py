"""What a mount costs in connections and TLS handshakes, counted at the fake.

Each thread of the daemon keeps one HTTP connection open, TLS sessions are
shared between threads, and answers come compressed. The counters are reset
between the login and the mount (the mounted fixture), so every connection the
daemon ever opened is counted; the test's own control connection is older.
"""
import os
import threading

import fsutil
from fsutil import calls_by_endpoint, listing_calls

PAGE_SIZE = 50
SEARCH = ("search", "search-next")


def test_first_listing_is_one_connection_and_gzip_encoded(mounted):
    """All pages of a listing come from one thread, hence over one connection
    and one full handshake, each page gzip-encoded."""
    fake, m = mounted("-o", f"page_size={PAGE_SIZE}")
    assert len(os.listdir(m.path / "prod2" / "profiles")) == 250
    pages = fsutil.pages(250, PAGE_SIZE)
    assert pages == 5
    assert calls_by_endpoint(fake) == listing_calls(250, PAGE_SIZE)
    assert fake.transport() == {"connections": 1, "handshakes": 1, "resumed": 0, "used": 1}
    assert fake.gzipped("prod2", SEARCH) == fake.gzipped() == pages


def test_threads_resume_the_tls_session(mounted):
    """Readers of profiles and channels the listing did not show, in
    parallel, make several threads fetch; every connection after the first
    resumes the TLS session the first one got, so the whole mount pays for
    one full handshake.

    Lookups in one directory reach the daemon one at a time, so readers of
    profiles/ alone may all be served by one thread; a lookup in channels/
    runs alongside one in profiles/, and two requests in the daemon at once
    are on two threads, so at least two threads fetch."""
    fake, m = mounted()
    root = m.path / "prod2"
    assert len(os.listdir(root / "profiles")) == 250
    late, channels = [], []
    for n in range(4):
        late.append(f"late_{n}")
        fake.put_profile("prod2", {"id": late[-1], "contact": {"fullName": late[-1]},
                                   "profiles": [], "createdTime": 1700000000000})
        channels.append(f"90000000000000004{n}")
        channel = {"name": f"Late {n}", "channelType": "TWITTER",
                   "channelId": channels[-1], "username": f"late{n}"}
        fake.put_profile("prod2", {"id": f"late_channel_{n}", "profiles": [channel],
                                   "createdTime": 1700000000000})
    fake.configure(latency=0.3)       # each fetch holds its thread a while
    jobs = [(read_profile, root, pid) for pid in late]
    jobs += [(read_channel, root, cid) for cid in channels]
    results = together(jobs)
    for pid in late:
        assert fsutil.same_json(results[pid], fake.profile("prod2", pid)), pid
    for n, cid in enumerate(channels):
        assert results[cid] == f"../../profiles/late_channel_{n}.json"
    assert calls_by_endpoint(fake) == dict(listing_calls(250), profile=4,
                                           **{"profile-by-channel": 4})
    transport = fake.transport()
    assert transport["handshakes"] - transport["resumed"] == 1, transport
    assert transport["resumed"] >= 1, transport
    assert transport["connections"] == transport["handshakes"] == transport["used"]


def read_profile(root, pid):
    return fsutil.read(root / "profiles" / f"{pid}.json")


def read_channel(root, cid):
    return os.readlink(root / "channels" / "TWITTER" / f"{cid}.json")


def together(jobs):
    """Run (function, *args) jobs at once, one thread each; {last arg: result}."""
    barrier = threading.Barrier(len(jobs))
    results, failures = {}, []

    def run(function, *args):
        barrier.wait()
        try:
            results[args[-1]] = function(*args)
        except OSError as err:
            failures.append((args[-1], err))

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    return results
