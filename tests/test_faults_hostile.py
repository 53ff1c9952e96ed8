"""Answers a server should never send: ids that are not names, 200s with
errors, pages of the wrong shape, cursors that go round in circles, bodies
too big to hold, the same profile twice. A log line, EIO or a skipped entry;
never a crash, a hang or a corrupted index."""
import base64
import errno
import json
import os

import fsutil
import util
from fsutil import api_calls, errno_of, read

FOREVER = 100000
ANY_COMPLAINT = r"sprinklrfs: (error|warning): "


def page(results, cursor=None):
    data = {"results": results}
    if cursor is not None:
        data["cursor"] = cursor
    return json.dumps({"data": data, "errors": []})


def by_time(fake):
    return sorted(fake.profiles("prod2"), key=lambda p: (p["modifiedTime"], p["id"]))


def listing_fails(m, fake=None):
    """A listing attempt of its own fails with EIO (prod2's own attributes
    are looked up first). With fake, it also made exactly one call: an
    answer that is JSON, whatever its shape, is not asked again (one that
    is not JSON is: test_faults_network)."""
    errno_of(lambda: os.stat(m.path / "prod2"))
    if fake:
        fake.reset_counters()
    failed = errno_of(lambda: os.stat(m.path / "prod2" / "profiles")) == errno.EIO
    return failed and (not fake or fsutil.calls_by_endpoint(fake) == {"search": 1})


def lists_again(fake, m, count):
    profiles = m.path / "prod2" / "profiles"
    fake.clear_faults()
    util.wait_for(lambda: errno_of(lambda: os.listdir(profiles)) is None, timeout=20,
                  what="the listing once the server behaves")
    assert sorted(os.listdir(profiles)) == sorted(
        f"{p['id']}.json" for p in fake.profiles("prod2"))
    assert len(os.listdir(profiles)) == count


def test_ids_that_are_not_names_are_skipped_and_the_rest_kept(mounted):
    fake, m = mounted(profiles=20)
    m.expect_log(r"skipping")
    hostile = ["a/b", "..", ".", "x" * 300, "with space", "semi;colon", "caf\u00e9",
               "new\nline", "y" * 201]
    kept = ["XYZ_1", "y" * 200, "a-b_C", "0"]
    accepted = []
    for pid in hostile + kept:
        try:
            fake.put_profile("prod2", {"id": pid, "profiles": [], "name": "odd"})
            accepted.append(pid)
        except Exception:
            assert pid in hostile, pid
    assert set(kept) <= set(accepted) and len(accepted) > len(kept)
    root = m.path / "prod2"
    names = os.listdir(root / "profiles")
    assert sorted(names) == sorted(
        f"{p['id']}.json" for p in fake.profiles("prod2") if fsutil.VALID_ID.match(p["id"]))
    assert len(names) == 20 + len(kept)
    for pid in kept:
        assert fsutil.same_json(read(root / "profiles" / f"{pid}.json"),
                                fake.profile("prod2", pid))
    fsutil.check_ndjson(read(root / "profiles.ndjson"), fsutil.Expected(fake))
    fsutil.wait_log(m, r"skipping")
    assert sorted(os.listdir(m.path)) == ["prod2"]
    assert set(os.listdir(root)) == fsutil.ENV_ENTRIES


def test_a_200_with_errors_is_eio(mounted):
    fake, m = mounted(profiles=20)
    m.expect_log(r"\bprod2\b")
    errors = [{"code": 5001, "message": "partial failure"}]
    one = fake.profiles("prod2")[0]
    fake.fault("status", FOREVER, env="prod2", endpoint="search", status=200,
               body=json.dumps({"data": {"results": [one]}, "errors": errors}))
    assert listing_fails(m, fake)
    fake.clear_faults()
    fsutil.enter(fake, m)
    me = fsutil.api_get(fake, "prod2", "/api/v2/me")["data"]
    fake.fault("status", FOREVER, env="prod2", endpoint="me", status=200,
               body=json.dumps({"data": me, "errors": errors}))
    assert errno_of(lambda: read(m.path / "prod2" / "me.json")) == errno.EIO
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")
    lists_again(fake, m, 20)
    assert fsutil.same_json(read(m.path / "prod2" / "me.json"), me)


def test_pages_of_the_wrong_shape_are_eio(mounted):
    fake, m = mounted(profiles=20)
    m.expect_log(r"\bprod2\b")
    one = fake.profiles("prod2")[0]
    bodies = [json.dumps({"data": {"results": {"0": one}}, "errors": []}),
              json.dumps({"data": {"results": "none"}, "errors": []}),
              json.dumps({"data": [one], "errors": []}),
              json.dumps({"data": None, "errors": []}),
              json.dumps({"results": [one]}),
              json.dumps([one]),
              json.dumps({"data": {"results": [one]}, "errors": [None]})]
    for body in bodies:
        fake.clear_faults()
        fake.fault("status", FOREVER, env="prod2", endpoint="search", status=200,
                   body=body)
        assert listing_fails(m, fake), body
    lists_again(fake, m, 20)


def test_entries_of_the_wrong_type_are_skipped(mounted, keyring):
    """A page whose results hold entries that are no profile (not an object,
    no id, an id that cannot be a file name) is listed without them, and
    says so; an entry with a usable id keeps its file whatever its other
    fields hold (the index trusts nothing but the id)."""
    fake, m = mounted(profiles=20)
    m.expect_log(ANY_COMPLAINT)
    good = by_time(fake)[0]
    results = [good, {"id": 5}, "text", None, 7, [good], {"noid": True},
               {"id": "../etc", "profiles": []}, {"id": None},
               {"id": "later", "modifiedTime": "yesterday", "profiles": "none"},
               {"id": "nested", "profiles": [{"channelType": 3, "channelId": None}]}]
    fake.fault("status", 1, env="prod2", endpoint="search", status=200,
               body=page(results))
    profiles = m.path / "prod2" / "profiles"
    assert errno_of(lambda: os.listdir(profiles)) is None
    names = set(os.listdir(profiles))
    assert f"{good['id']}.json" in names
    assert names == {f"{good['id']}.json", "later.json", "nested.json"}
    assert fsutil.same_json(read(profiles / f"{good['id']}.json"), good)
    for name in names:
        json.loads(read(profiles / name))
    os.listdir(m.path / "prod2" / "channels")
    fsutil.wait_log(m, r"warning: prod2: skipping 8 profile\(s\)")
    # a complete full listing puts everything right
    res = util.run([util.binary(), "sync", m.path / "prod2", "--full"], keyring.env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "prod2: synced, 20 profiles"
    assert sorted(os.listdir(profiles)) == sorted(
        f"{p['id']}.json" for p in fake.profiles("prod2"))
    fsutil.check_tree(m.path / "prod2", fsutil.Expected(fake))


def test_a_repeating_cursor_stops_the_listing(mounted):
    fake, m = mounted("-o", "page_size=100", profiles=250)
    m.expect_log(r"cursor loop|\bprod2\b")
    later = by_time(fake)[120]
    fake.fault("status", FOREVER, env="prod2", endpoint="search-next", status=200,
               body=page([later], cursor="id=0123456789abcdef01234567"))
    errno_of(lambda: os.stat(m.path / "prod2"))
    fake.reset_counters()
    assert errno_of(lambda: os.stat(m.path / "prod2" / "profiles")) == errno.EIO
    fsutil.wait_log(m, r"cursor loop")
    assert api_calls(fake, endpoint="search") == 1
    assert 2 <= api_calls(fake, endpoint="search-next") <= 5
    lists_again(fake, m, 250)


def test_restarts_that_do_not_move_stop_the_listing(mounted):
    """Every search answers the same tie group and every cursor is refused:
    a restart from where the previous one started stops the listing."""
    fake, m = mounted("-o", "page_size=10", profiles=50)
    m.expect_log(r"cursor loop|\bprod2\b")
    same = [dict(p, modifiedTime=1700000000000) for p in by_time(fake)[:10]]
    fake.fault("status", FOREVER, env="prod2", endpoint="search", status=200,
               body=page(same, cursor="id=0123456789abcdef01234567"))
    fake.fault("status", FOREVER, env="prod2", endpoint="search-next", status=410)
    errno_of(lambda: os.stat(m.path / "prod2"))
    fake.reset_counters()
    assert errno_of(lambda: os.stat(m.path / "prod2" / "profiles")) == errno.EIO
    fsutil.wait_log(m, r"cursor loop")
    # by time, then the group by id twice: the second ends where the first did
    assert api_calls(fake, endpoint="search") == 3
    assert api_calls(fake, endpoint="search-next", status=410) == 3
    lists_again(fake, m, 50)


def test_a_body_over_max_body_is_eio(mounted):
    fake, m = mounted("-o", "max_body=100000,page_size=10", profiles=50)
    m.expect_log(r"\bprod2\b")
    fsutil.enter(fake, m)
    root = m.path / "prod2"
    assert len(os.listdir(root / "profiles")) == 50
    me = fsutil.api_get(fake, "prod2", "/api/v2/me")["data"]
    # random text: as large compressed as it is plain
    noise = base64.b64encode(os.urandom(240000)).decode()
    fake.fault("status", FOREVER, env="prod2", endpoint="me", status=200,
               body=json.dumps({"data": dict(me, name=noise), "errors": []}))
    assert errno_of(lambda: read(root / "me.json")) == errno.EIO
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")
    assert len(os.listdir(root / "profiles")) == 50
    fake.clear_faults()
    util.wait_for(lambda: errno_of(lambda: read(root / "me.json")) is None, timeout=20,
                  what="me.json once the answers are small again")
    assert fsutil.same_json(read(root / "me.json"), me)


def test_duplicate_ids_across_pages_make_one_file(mounted):
    fake, m = mounted("-o", "page_size=10", profiles=30)
    ordered = by_time(fake)
    first, extra = ordered[:10], ordered[20:22]
    fake.fault("status", 1, env="prod2", endpoint="search-next", status=200,
               body=page(first[3:] + extra + extra + first[:2]))
    root = m.path / "prod2"
    names = os.listdir(root / "profiles")
    assert len(names) == len(set(names))
    want = {p["id"]: p for p in first + extra}
    assert sorted(names) == sorted(f"{pid}.json" for pid in want)
    for pid, profile in want.items():
        assert fsutil.same_json(read(root / "profiles" / f"{pid}.json"), profile)
    lines = read(root / "profiles.ndjson").splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(want)
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "search-next": 1}
