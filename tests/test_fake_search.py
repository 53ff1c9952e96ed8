"""Search: paging, cursors, filters, sorting and a live index under changes."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402

from fakesprinklr.fixtures import api, fake  # noqa: E402,F401
from fakesprinklr.launcher import FakeError  # noqa: E402

PAGE = {"start": 0, "size": 50}


def leaf(kind, key, *values):
    return {"type": kind, "key": key, "values": list(values)}


def ids(profiles):
    return [p["id"] for p in profiles]


def all_live(fake):
    return {p["id"]: p for p in fake.profiles("prod2")}


def test_full_listing_in_modified_time_order(fake, api):
    count = len(all_live(fake))
    results, pages = api.search_all({"page": PAGE})
    assert len(results) == count and pages == (count + 49) // 50
    assert len(set(ids(results))) == count
    times = [(p["modifiedTime"], p["id"]) for p in results]
    assert times == sorted(times)
    assert set(ids(results)) == set(all_live(fake))
    assert fake.calls("prod2", "search") == 1
    assert fake.calls("prod2", "search-next") == pages - 1


def test_response_shape_and_last_page(fake, api):
    reply = api.search({"page": {"start": 0, "size": 7}})
    body = reply.json()
    assert body["errors"] == [] and len(body["data"]["results"]) == 7
    assert body["data"]["cursor"].startswith("id=") and len(body["data"]["cursor"]) == 27
    last = api.search({"page": {"size": 1000}}).json()["data"]
    assert len(last["results"]) == len(all_live(fake)) and "cursor" not in last


def test_descending_sort(fake, api):
    body = {"sorts": [{"key": "modifiedTime", "order": "DESC"}], "page": {"size": 64}}
    results, _ = api.search_all(body)
    times = [(p["modifiedTime"], p["id"]) for p in results]
    assert len(results) == len(all_live(fake)) and times == sorted(times, reverse=True)


def test_ties_exist_and_cursor_splits_them_safely(fake, api):
    results, _ = api.search_all({"page": {"size": 5}})
    times = [p["modifiedTime"] for p in results]
    assert len(set(times)) < len(times), "some profiles share a modifiedTime"
    assert len(set(ids(results))) == len(results) == len(all_live(fake))


def test_modified_time_window(fake, api):
    everything = api.search_all({"page": {"size": 1000}})[0]
    low = everything[100]["modifiedTime"]
    high = everything[200]["modifiedTime"]
    expected = [p for p in everything if low < p["modifiedTime"] <= high]
    flt = {"type": "AND", "filters": [leaf("GT", "modifiedTime", low), leaf("LTE", "modifiedTime", high)]}
    got = api.search_all({"filter": flt, "sorts": [{"key": "modifiedTime", "order": "ASC"}],
                          "page": {"size": 30}})[0]
    assert ids(got) == ids(expected)
    got_desc = api.search_all({"filter": flt, "sorts": [{"key": "modifiedTime", "order": "DESC"}],
                               "page": {"size": 30}})[0]
    assert set(ids(got_desc)) == set(ids(expected))
    exact = api.search_all({"filter": leaf("EQUALS", "modifiedTime", low), "page": PAGE})[0]
    assert ids(exact) == [p["id"] for p in everything if p["modifiedTime"] == low]


def test_list_and_other_filters(fake, api):
    live = list(all_live(fake).values())

    def check(flt, predicate):
        got = set(ids(api.search_all({"filter": flt, "page": PAGE})[0]))
        want = {p["id"] for p in live if predicate(p)}
        assert got == want and want, flt

    def lists(p):
        return p.get("profileWorkflow", {}).get("profileLists", [])

    def space_lists(p):
        spaces = p.get("profileWorkflow", {}).get("profileSpaceWorkflows", [])
        return [lid for s in spaces for lid in s["profileLists"]]

    def channels(p):
        return [c["channelType"] for c in p["profiles"]]

    check(leaf("IN", "profileWorkflow.profileLists", 2), lambda p: 2 in lists(p))
    check(leaf("IN", "profileWorkflow.profileSpaceWorkflows.profileLists", 2691),
          lambda p: 2691 in space_lists(p))
    check(leaf("NIN", "profileWorkflow.profileLists", 2, 3),
          lambda p: 2 not in lists(p) and 3 not in lists(p))
    check(leaf("EQUALS", "channelType", "TWITTER"), lambda p: "TWITTER" in channels(p))
    check({"type": "OR", "filters": [leaf("EQUALS", "channelType", "SMS"),
                                     leaf("EQUALS", "channelType", "EMAIL")]},
          lambda p: "SMS" in channels(p) or "EMAIL" in channels(p))
    check({"type": "NOT", "filters": [leaf("EQUALS", "channelType", "SMS")]},
          lambda p: "SMS" not in channels(p))
    check(leaf("CONTAINS", "contact.email", "ZOE"),
          lambda p: "zoe" in p.get("contact", {}).get("email", ""))
    check(leaf("NOT_EQUALS", "id", live[0]["id"]), lambda p: p["id"] != live[0]["id"])
    check(leaf("LT", "createdTime", live[50]["createdTime"]),
          lambda p: p["createdTime"] < live[50]["createdTime"])
    one = live[7]
    check(leaf("EQUALS", "channelId", one["profiles"][0]["channelId"]), lambda p: p is one)
    if "phoneNo" in one.get("contact", {}):
        check(leaf("EQUALS", "contact.phoneNo", one["contact"]["phoneNo"]),
              lambda p: p.get("contact", {}).get("phoneNo") == one["contact"]["phoneNo"])


def test_custom_property_filter(fake, api):
    fields = api.call("GET", "/api/v1/bootstrap/resources?types=PROFILE_CUSTOM_FIELDS").json()
    tier = next(f for f in fields["PROFILE_CUSTOM_FIELDS"] if f["label"]["en"] == "Tier")
    name = tier["fieldName"]
    flt = leaf("IN", "profileWorkflow.customProperties." + name, "Gold")
    got = set(ids(api.search_all({"filter": flt, "page": PAGE})[0]))
    want = {p["id"] for p in all_live(fake).values()
            if "Gold" in p.get("profileWorkflow", {}).get("customProperties", {}).get(name, [])}
    assert got == want and want


def test_page_start_skips(api):
    everything = api.search_all({"page": {"size": 1000}})[0]
    skipped = api.search_all({"page": {"start": 10, "size": 100}})[0]
    assert ids(skipped) == ids(everything[10:])


def test_bad_requests_are_400_with_errors(fake, api):
    bad = [{}, {"page": {}}, {"page": {"size": 0}}, {"page": {"size": 1001}},
           {"page": {"size": "10"}}, {"page": {"size": 10, "start": -1}},
           {"page": PAGE, "filter": {"type": "FUZZY", "key": "id", "values": ["x"]}},
           {"page": PAGE, "filter": leaf("IN", "contact.nickname", "x")},
           {"page": PAGE, "filter": {"type": "IN", "key": "id"}},
           {"page": PAGE, "filter": {"type": "AND", "filters": []}},
           {"page": PAGE, "filter": leaf("GT", "modifiedTime", "yesterday")},
           {"page": PAGE, "sorts": [{"key": "createdTime", "order": "ASC"}]},
           {"page": PAGE, "sorts": [{"key": "modifiedTime", "order": "UP"}]}, [1, 2]]
    for body in bad:
        reply = api.search(body)
        assert reply.status == 400, body
        assert reply.json()["errors"][0]["message"], body
    assert api.call("POST", "/api/v2/search/PROFILE", b"{not json").status == 400
    reply = api.call("POST", "/api/v2/search/PROFILE", b'{"page": {"size": 5}}',
                     headers={"Content-Type": "text/plain"})
    assert reply.status == 400 and reply.json()["errors"]
    fake.configure(max_page_size=20)
    assert api.search({"page": {"size": 21}}).status == 400
    assert api.search({"page": {"size": 20}}).status == 200


def test_max_page_size_refuses_a_larger_first_page(fake, api):
    """The contract: 400 above the maximum, on the first page of a search."""
    fake.configure(max_page_size=40)
    for size in (41, 1000):
        reply = api.search({"page": {"start": 0, "size": size}})
        assert reply.status == 400, size
        assert reply.json()["errors"][0]["message"] == "page.size must be between 1 and 40"
    results, pages = api.search_all({"page": {"start": 0, "size": 40}})
    assert len(results) == len(all_live(fake)) and pages == -(-len(results) // 40)
    assert fake.calls("prod2", "search", 400) == 2


def test_max_page_size_cap_answers_short_pages_with_cursors(fake, api):
    """A server that caps silently: at most the maximum per page, each with a
    cursor while more remain, and never a 400 for the size."""
    fake.configure(max_page_size=40, max_page_size_answer="cap")
    count = len(all_live(fake))
    first = api.search({"page": {"start": 0, "size": 1000}})
    assert first.status == 200
    data = first.json()["data"]
    assert len(data["results"]) == 40 and data["cursor"].startswith("id=")
    results, pages = api.search_all({"page": {"start": 0, "size": 1000}})
    assert pages == -(-count // 40)
    assert set(ids(results)) == set(all_live(fake)) and len(results) == count
    assert api.search({"page": {"size": 0}}).status == 400
    assert fake.calls("prod2", "search", 400) == 1
    assert fake.configure(max_page_size_answer="400")["max_page_size_answer"] == "400"


def test_max_page_size_answer_takes_400_or_cap(fake, api):
    with pytest.raises(FakeError) as err:
        fake.configure(max_page_size_answer="truncate")
    assert err.value.status == 400


def test_cursor_expiry_and_unknown_cursor(fake, api):
    fake.configure(cursor_lifetime=0.3)
    cursor = api.search({"page": {"size": 10}}).json()["data"]["cursor"]
    time.sleep(0.4)
    reply = api.next_page(cursor)
    assert reply.status == 400 and reply.json()["errors"][0]["message"] == "cursor expired"
    reply = api.next_page("id=0123456789abcdef01234567")
    assert reply.status == 400 and reply.json()["errors"]
    assert api.call("GET", "/api/v2/search/PROFILE").status == 400


def test_cursor_is_bound_to_its_environment(fake, api):
    from fakesprinklr.client import ApiClient
    cursor = api.search({"page": {"size": 10}}).json()["data"]["cursor"]
    qa = ApiClient(fake, "qa4")
    qa.login()
    assert qa.next_page(cursor).status == 400
    qa.close()


def test_cursor_can_be_replayed(api):
    cursor = api.search({"page": {"size": 10}}).json()["data"]["cursor"]
    first = api.next_page(cursor).json()["data"]
    again = api.next_page(cursor).json()["data"]
    assert ids(first["results"]) == ids(again["results"])
    assert first["cursor"] != again["cursor"]


def test_live_index_sees_changes_during_listing(fake, api):
    before = len(all_live(fake))
    first = api.search({"page": {"size": 100}}).json()["data"]
    seen = ids(first["results"])
    touched = fake.touch("prod2", ids=[seen[0], seen[1]])
    deleted = fake.profiles("prod2")
    gone = [p["id"] for p in deleted if p["id"] not in seen][:3]
    for pid in gone:
        fake.delete_profile("prod2", pid)
    added = dict(fake.profile("prod2", seen[5]), id="f" * 24)
    fake.put_profile("prod2", added)
    rest, cursor = [], first["cursor"]
    while cursor:
        data = api.next_page(cursor).json()["data"]
        rest += ids(data["results"])
        cursor = data.get("cursor")
    assert not set(gone) & set(rest)
    assert rest[-3:] == sorted(touched) + ["f" * 24]
    assert len(seen) + len(rest) == before + 2 - 3 + 1


def test_incremental_sync_with_gt_and_ties(fake, api):
    everything = api.search_all({"page": {"size": 1000}})[0]
    newest = everything[-1]["modifiedTime"]
    touched = fake.touch("prod2", count=4)
    flt = leaf("GT", "modifiedTime", newest)
    changed = api.search_all({"filter": flt, "page": {"size": 3}})[0]
    assert sorted(ids(changed)) == sorted(touched)
    assert len({p["modifiedTime"] for p in changed}) == 1, "one touch shares one time"
    assert all(p["modifiedTime"] > newest for p in changed)
    assert touched == ids(everything[:4])


def test_page_after_the_end_is_empty(fake, api):
    everything = api.search_all({"page": {"size": 1000}})[0]
    low, high = everything[20]["modifiedTime"], everything[40]["modifiedTime"]
    flt = {"type": "AND", "filters": [leaf("GTE", "modifiedTime", low), leaf("LT", "modifiedTime", high)]}
    first = api.search({"filter": flt, "page": {"size": 5}}).json()["data"]
    assert all(low <= p["modifiedTime"] < high for p in first["results"])
    later = api.search_all({"filter": flt, "page": {"size": 1000}})[0]
    for profile in later[5:]:
        fake.delete_profile("prod2", profile["id"])
    data = api.next_page(first["cursor"]).json()["data"]
    assert data == {"results": []}
    for profile in later[5:]:
        fake.put_profile("prod2", profile, keep_time=True)
    again = api.next_page(first["cursor"]).json()["data"]
    assert ids(again["results"]) == ids(later[5:10])


# --- modes the contract allows -------------------------------------------------

BY_TIME = [{"key": "modifiedTime", "order": "ASC"}]
BY_ID = [{"key": "id", "order": "ASC"}]


def groups_out_of_id_order(results):
    """How many tie groups of the listing are not in id order."""
    groups = {}
    for p in results:
        groups.setdefault(p["modifiedTime"], []).append(p["id"])
    return sum(1 for g in groups.values() if g != sorted(g))


def test_numeric_values_given_as_strings_are_refused(fake, api):
    newest = api.search_all({"page": {"size": 1000}})[0][-1]["modifiedTime"]
    for flt in (leaf("GT", "modifiedTime", str(newest)),
                leaf("IN", "profileWorkflow.profileLists", "2"),
                {"type": "OR", "filters": [leaf("EQUALS", "createdTime", "1")]}):
        reply = api.search({"filter": flt, "page": PAGE})
        assert reply.status == 400 and "numbers" in reply.json()["errors"][0]["message"]
    assert api.search({"filter": leaf("GT", "modifiedTime", newest), "page": PAGE}).status == 200
    fake.configure(numeric_strings=True)
    assert api.search({"filter": leaf("GT", "modifiedTime", str(newest)), "page": PAGE}).status == 200


def test_sort_by_id(fake, api):
    live = sorted(all_live(fake))
    results, pages = api.search_all({"sorts": BY_ID, "page": {"size": 40}})
    assert ids(results) == live and pages == (len(live) + 39) // 40
    desc = api.search_all({"sorts": [{"key": "id", "order": "DESC"}], "page": {"size": 40}})[0]
    assert ids(desc) == live[::-1]
    after = {"type": "AND", "filters": [leaf("GT", "id", live[100])]}
    assert ids(api.search_all({"filter": after, "sorts": BY_ID, "page": PAGE})[0]) == live[101:]


def test_ties_in_hash_order(fake, api):
    by_id = api.search_all({"sorts": BY_TIME, "page": {"size": 1000}})[0]
    fake.configure(tie_order="hash")
    hashed, _ = api.search_all({"sorts": BY_TIME, "page": {"size": 3}})
    assert sorted(ids(hashed)) == sorted(ids(by_id)) and len(set(ids(hashed))) == len(by_id)
    times = [p["modifiedTime"] for p in hashed]
    assert times == sorted(times)
    assert groups_out_of_id_order(by_id) == 0 and groups_out_of_id_order(hashed) > 0
    again = api.search_all({"sorts": BY_TIME, "page": {"size": 7}})[0]
    assert ids(again) == ids(hashed), "the order is stable between searches"
    desc = api.search_all({"sorts": [{"key": "modifiedTime", "order": "DESC"}],
                           "page": {"size": 5}})[0]
    assert ids(desc) == ids(hashed)[::-1]


def test_a_bulk_batch_of_several_pages_shares_one_time(fake, api):
    fake.configure(tie_order="hash")
    batch = fake.touch("prod2", count=25)
    when = fake.profile("prod2", batch[0])["modifiedTime"]
    flt = leaf("EQUALS", "modifiedTime", when)
    results, pages = api.search_all({"filter": flt, "sorts": BY_TIME, "page": {"size": 10}})
    assert sorted(ids(results)) == sorted(batch) and pages == 3
    assert ids(results) != sorted(batch)
    by_id, _ = api.search_all({"filter": flt, "sorts": BY_ID, "page": {"size": 10}})
    assert ids(by_id) == sorted(batch)
    rest = {"type": "AND", "filters": [flt, leaf("GT", "id", sorted(batch)[12])]}
    assert ids(api.search_all({"filter": rest, "sorts": BY_ID, "page": PAGE})[0]) == sorted(batch)[13:]


def test_one_query_for_the_rest_of_a_batch_and_what_follows(fake, api):
    fake.configure(tie_order="hash")
    batch = sorted(fake.touch("prod2", count=25))
    when = fake.profile("prod2", batch[0])["modifiedTime"]
    later = fake.touch("prod2", ids=[batch[0]])
    flt = {"type": "OR", "filters": [
        {"type": "AND", "filters": [leaf("EQUALS", "modifiedTime", when), leaf("GT", "id", batch[20])]},
        leaf("GT", "modifiedTime", when)]}
    results = api.search_all({"filter": flt, "sorts": BY_TIME, "page": {"size": 3}})[0]
    assert sorted(ids(results[:4])) == batch[21:] and ids(results[4:]) == later


def test_short_pages_come_with_a_cursor(fake, api):
    count = len(all_live(fake))
    fake.configure(short_pages=True)
    results, pages = api.search_all({"page": {"size": 20}})
    assert len(results) == count and len(set(ids(results))) == count
    assert pages > (count + 19) // 20
    data = api.search({"page": {"size": 20}}).json()["data"]
    assert 0 < len(data["results"]) < 20 and data["cursor"]


def test_a_full_last_page_may_lead_to_an_empty_one(fake, api):
    count = len(all_live(fake))
    fake.configure(empty_last_page=True)
    results, pages = api.search_all({"page": {"size": count}})
    assert len(results) == count and pages == 2
    last = api.search({"page": {"size": count}}).json()["data"]
    assert api.next_page(last["cursor"]).json()["data"] == {"results": []}
    results, pages = api.search_all({"page": {"size": count + 1}})
    assert len(results) == count and pages == 1


def test_expired_cursor_with_another_4xx(fake, api):
    for status in (404, 410):
        fake.configure(cursor_lifetime=0, cursor_expired_status=status)
        cursor = api.search({"page": {"size": 10}}).json()["data"]["cursor"]
        reply = api.next_page(cursor)
        assert reply.status == status and reply.json()["errors"][0]["message"] == "cursor expired"
    assert api.next_page("id=0123456789abcdef01234567").status == 400
    for bad in (399, 500, "x"):
        with pytest.raises(FakeError):
            fake.configure(cursor_expired_status=bad)
