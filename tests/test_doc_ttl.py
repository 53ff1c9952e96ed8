"""Documents (me.json, workspaces.json, custom-fields.json, the lists) live
for doc_ttl, profiles for ttl: after ttl an rsync of a whole environment or
an `ls -l` of it costs the incremental search alone, and `sprinklrfs sync`
fetches the documents again. .status.json's mtime is when its bytes last
changed, so a copy of an environment where nothing happened leaves it alone.

Counts depend on the page size: page_size=100 is given explicitly."""
import json
import os
import re
import signal
import time

import fsutil
import util
from fsutil import Expected, calls_by_endpoint

PAGES = "page_size=100"
# short, and yet longer than what is measured after it has passed
TTL = 2
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


def itemized(lines):
    """{path: rsync's change flags} of an --itemize-changes listing."""
    out = {}
    for line in lines:
        flags, name = line.split(" ", 1)
        out[name.split(" -> ")[0]] = flags
    return out


def expected_changes(fake, root, touched):
    """What an rsync of root into an up-to-date copy must itemize once the
    profiles touched changed: those profiles and their links (their mtime is
    the profile's), the exports (profiles.ndjson and profiles.csv, and those
    of the lists they are in, whose newest member they now are),
    .status.json (the search that found them is counted in it), and the
    directories whose mtime is the newest profile's (the environment,
    profiles/, channels/ and each channel type, lists/). The lists' own
    directories carry the lists' times: unchanged."""
    links = {path for path, target in Expected(fake).links().items()
             if any(target.endswith(f"/{pid}.json") for pid in touched)}
    lists = {path.split("/profiles/")[0] for path in links if path.startswith("lists/")}
    dirs = {"./", "profiles/", "channels/", "lists/"} | \
        {f"channels/{kind}/" for kind in os.listdir(root / "channels")}
    return (dict.fromkeys((f"profiles/{pid}.json" for pid in touched), ">f") |
            {"profiles.ndjson": ">f", "profiles.csv": ">f", ".status.json": ">f"} |
            {f"{d}/{name}": ">f" for d in lists for name in fsutil.EXPORTS} |
            dict.fromkeys(links, ".L") | dict.fromkeys(dirs, ".d"))


def test_rsync_after_ttl_costs_one_search_and_copies_the_changed(mounted, tmp_path):
    fake, m = mounted("-o", f"ttl={TTL},{PAGES}")
    root, copy = m.path / "prod2", tmp_path / "copy"
    fsutil.rsync(root, copy)
    done = time.monotonic()
    # rsync compares whole seconds, and an export's mtime is its newest
    # profile's or custom-fields.json's, fetched during that rsync: the
    # touched profiles' time must fall in a later second than that
    fsutil.wait_past(1.0, done)
    touched = fake.touch("prod2", count=3)
    fsutil.wait_past(TTL + 0.2, done)
    fake.reset_counters()
    changes = itemized(fsutil.rsync(root, copy))
    assert calls_by_endpoint(fake) == {"search": 1}
    want = expected_changes(fake, root, touched)
    assert {name: flags[:2] for name, flags in changes.items()} == want
    # every one of them only for its time (and the files for their bytes)
    assert all(flags[4] == "t" for flags in changes.values()), \
        {name: flags for name, flags in changes.items() if flags[4] != "t"}
    fsutil.check_tree(copy, Expected(fake))


def test_second_rsync_within_ttl_itemizes_nothing(mounted, tmp_path):
    """The first rsync's reads fetch the documents, which .status.json
    counts; once they are fetched, a copy is complete, and the next rsync,
    .status.json included, has nothing to do."""
    fake, m = mounted("-o", PAGES)
    root, copy = m.path / "prod2", tmp_path / "copy"
    fsutil.scan(root)
    fsutil.rsync(root, copy)
    fake.reset_counters()
    assert fsutil.rsync(root, copy) == []
    assert fsutil.api_calls(fake) == 0


def test_ls_l_after_ttl_costs_one_search(mounted):
    fake, m = mounted("-o", f"ttl={TTL},{PAGES}")
    root = m.path / "prod2"
    first = util.run(["ls", "-l", root], check=True).stdout
    assert calls_by_endpoint(fake) == dict(fsutil.listing_calls(250, 100), me=1,
                                           bootstrap=1,
                                           **{"accessible-clients": 1})
    fsutil.wait_past(TTL + 0.2, time.monotonic())
    fake.reset_counters()
    again = util.run(["ls", "-l", root], check=True).stdout
    assert calls_by_endpoint(fake) == {"search": 1}
    # the entries but .status.json, and the "total" line
    assert again.count("\n") == first.count("\n") == len(fsutil.ENV_ENTRIES)


def read_documents(root):
    """ls -l of the environment (its three documents) and of the lists."""
    lists = root / "lists"
    util.run(["ls", "-l", root, lists / "partner", lists / "workspace"],
             check=True)


def test_documents_are_fetched_again_after_doc_ttl(mounted):
    fake, m = mounted("-o", f"ttl={TTL},doc_ttl={TTL + 1},{PAGES}")
    root = m.path / "prod2"
    read_documents(root)
    assert calls_by_endpoint(fake) == dict(fsutil.listing_calls(250, 100), **fsutil.DOCUMENTS)
    fsutil.wait_past(TTL + 1.2, time.monotonic())
    fake.reset_counters()
    read_documents(root)
    assert calls_by_endpoint(fake) == dict(fsutil.DOCUMENTS, search=1)
    fsutil.check_tree(root, Expected(fake))


def test_a_remount_after_ttl_serves_the_documents_from_the_store(mounted, mount):
    fake, m = mounted("-o", f"ttl=1,{PAGES}")
    read_documents(m.path / "prod2")
    m.unmount()
    fsutil.wait_past(1.2, time.monotonic())
    fake.reset_counters()
    m = mount("-o", f"ttl=1,{PAGES}", name="again")
    read_documents(m.path / "prod2")
    assert calls_by_endpoint(fake) == {"search": 1}
    fsutil.check_tree(m.path / "prod2", Expected(fake))


def test_sync_command_fetches_the_documents_again(mounted, keyring):
    """Those fetched before, each once. The kernel is told: me.json shows
    what was fetched at once, though ttl is an hour, with no other call."""
    fake, m = mounted("-o", f"ttl=3600,{PAGES}")
    root = m.path / "prod2"
    fsutil.scan(root)
    me = dict(Expected(fake).me, name="Ada Renamed")
    fake.fault("status", endpoint="me", status=200,
               body=json.dumps({"data": me, "errors": []}))
    fake.reset_counters()
    res = util.run([util.binary(), "sync", root], keyring.env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "prod2: synced, 250 profiles\n"
    assert calls_by_endpoint(fake) == dict(fsutil.DOCUMENTS, search=1)
    fake.reset_counters()
    path = root / "me.json"
    data = util.wait_for(lambda: (lambda d: fsutil.same_json(d, me) and d)(
        fsutil.read(path)), timeout=5, what="me.json's new bytes")
    assert os.stat(path).st_size == len(data)
    assert fsutil.api_calls(fake) == 0


def test_sync_command_fetches_only_documents_that_were_read(mounted, keyring):
    fake, m = mounted("-o", PAGES)
    root = m.path / "prod2"
    fsutil.read(root / "me.json")
    fake.reset_counters()
    res = util.run([util.binary(), "sync", root], keyring.env)
    assert res.returncode == 0, res.stderr
    assert calls_by_endpoint(fake) == {"search": 1, "me": 1}
    res = util.run([util.binary(), "sync", root, "--full"], keyring.env)
    assert res.returncode == 0, res.stderr
    assert calls_by_endpoint(fake) == {"search": 2, "search-next": 2, "me": 2}


def test_a_failed_refresh_fails_the_sync_and_keeps_the_document(mounted, keyring):
    fake, m = mounted("-o", f"retries=0,{PAGES}")
    m.expect_log(r"prod2: GET me failed")
    root = m.path / "prod2"
    me = fsutil.read(root / "me.json")
    fake.fault("status", 1, env="prod2", endpoint="me", status=503)
    fake.reset_counters()
    res = util.run([util.binary(), "sync", root], keyring.env)
    assert res.returncode == 1
    assert "sync failed" in res.stderr, res.stderr
    assert calls_by_endpoint(fake) == {"search": 1, "me": 1}
    assert fsutil.read(root / "me.json") == me
    assert calls_by_endpoint(fake) == {"search": 1, "me": 1}


def status_file(root):
    """(bytes, os.stat) of one snapshot of root/.status.json: those of
    one open file (a lookup between a read and a stat could find another)."""
    with open(root / ".status.json", "rb") as f:
        return f.read(), os.fstat(f.fileno())


def test_status_mtime_stays_while_nothing_happens(mounted):
    fake, m = mounted("-o", PAGES)
    root = m.path / "prod2"
    fsutil.scan(root)
    data, st = status_file(root)
    assert st.st_size == len(data)
    fsutil.wait_past(1.2, time.monotonic())     # past a rendering's reuse
    again, st_again = status_file(root)
    assert again == data
    assert st_again.st_mtime_ns == st.st_mtime_ns
    assert st_again.st_size == len(again)
    fake.reset_counters()
    assert fsutil.errno_of(lambda: os.stat(root / "profiles" / "absent.json"))
    assert calls_by_endpoint(fake) == {"profile": 1}
    changed, st_changed = status_file(root)
    assert changed != data
    assert json.loads(changed)["calls"]["profile"] == {"404": 1}
    assert st_changed.st_mtime_ns > st.st_mtime_ns
    assert st_changed.st_size == len(changed)


def listing_progress(m):
    """The running listing's progress in .status.json once it has an
    estimated end, else None."""
    progress = fsutil.status(m)["sync"]["progress"]
    return progress if progress and progress["estimated_end"] else None


def test_status_stays_while_a_listing_waits_for_a_page(mounted):
    """The listing's estimated end is a time, not seconds from now: while
    the listing waits for its next page, the bytes and the mtime of
    .status.json stay."""
    fake, m = mounted("-o", "page_size=10", profiles=100)
    root = m.path / "prod2"
    os.listdir(root / "profiles")
    fake.fault("latency", 1, env="prod2", endpoint="search-next", seconds=5.0)
    m.proc.send_signal(signal.SIGHUP)            # a full listing, in the background
    progress = util.wait_for(lambda: listing_progress(m),
                             what="the listing's first page")
    assert progress["calls"] == 1
    assert ISO_UTC.match(progress["estimated_end"]), progress
    data, st = status_file(root)
    fsutil.wait_past(1.2, time.monotonic())     # past a rendering's reuse
    again, st_again = status_file(root)
    assert (again, st_again.st_mtime_ns) == (data, st.st_mtime_ns)
    # the first listing, and the page the second has so far
    assert fsutil.api_calls(fake) == fsutil.pages(100, 10) + 1
