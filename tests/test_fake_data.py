"""Generated data, the read endpoints and the control interface for data."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakesprinklr.catalog import Catalog  # noqa: E402
from fakesprinklr.data import Generator  # noqa: E402
from fakesprinklr.fixtures import api, fake  # noqa: E402,F401
from fakesprinklr.ids import IdCodec  # noqa: E402
from fakesprinklr.store import Store  # noqa: E402

HEX = set("0123456789abcdef")


def generator(count=2000, seed=1, env="prod2"):
    return Generator(seed, env, count, Catalog(seed, env))


def test_ids_are_24_hex_and_invertible():
    codec = IdCodec(7, "qa4", 10 ** 6)
    for index in (0, 1, 2, 12345, 999999):
        pid = codec.profile_id(index)
        assert len(pid) == 24 and set(pid) <= HEX
        assert codec.profile_index(pid) == index
        for slot in range(3):
            cid = codec.channel_id(index, slot)
            assert cid.isdigit() and codec.channel_slot(cid) == (index, slot)
    outside = IdCodec(7, "qa4", 10)
    assert outside.profile_index(codec.profile_id(999999)) is None
    for bad in ("", "0" * 24, "A" * 24, "xyz", "0" * 23, None, "../etc/passwd"):
        assert codec.profile_index(bad) is None or bad == "0" * 24
    assert codec.channel_slot("12") is None and codec.channel_slot("x" * 19) is None


def test_generation_is_deterministic_and_env_specific():
    a, b = generator(), generator()
    assert a.profile(17) == b.profile(17)
    assert generator(env="qa4").profile(17)["id"] != a.profile(17)["id"]
    assert generator(seed=2).profile(17) != a.profile(17)


def test_times_are_monotonic_with_ties():
    gen = generator(100000)
    times = [gen.modified_time(i) for i in range(0, 2000)]
    assert times == sorted(times) and len(set(times)) < len(times)
    for index in range(0, 2000, 37):
        profile = gen.profile(index)
        assert profile["createdTime"] <= profile["modifiedTime"] == times[index]
        assert gen.first_at_or_after(times[index]) <= index


def test_profile_content_variety():
    gen = generator()
    sample = [gen.profile(i) for i in range(500)]
    names = {p["contact"]["firstName"] for p in sample if "contact" in p}
    assert {"José", "Zoë", "Łukasz", "µ"} <= names
    assert any("contact" not in p for p in sample)
    assert any("demographics" not in p for p in sample)
    assert any("partnerExtension" in p for p in sample)
    assert {len(p["profiles"]) for p in sample} == {1, 2, 3}
    kinds = {c["channelType"] for p in sample for c in p["profiles"]}
    assert kinds == {"TWITTER", "FACEBOOK", "INSTAGRAM", "LINKEDIN", "WHATSAPP_BUSINESS", "SMS", "EMAIL"}
    flows = [p["profileWorkflow"] for p in sample if "profileWorkflow" in p]
    assert any(f["profileSpaceWorkflows"] for f in flows)
    for flow in flows:
        for name, values in flow["customProperties"].items():
            assert name.startswith("_c_") and len(name) == 27
            assert values and all(isinstance(v, str) for v in values)


def test_store_holds_nothing_per_profile():
    store = Store(1, "prod2", 10 ** 6, Catalog(1, "prod2"))
    assert store.overlay == {} and store.order == []
    last = store.gen.profile(10 ** 6 - 1)
    assert store.get(last["id"]) == last
    channel = last["profiles"][-1]
    assert store.by_channel(channel["channelType"], channel["channelId"]) == last
    assert store.by_channel("NOPE", channel["channelId"]) is None


def test_me_and_accessible_clients(api):
    me = api.call("GET", "/api/v2/me").json()
    assert me["errors"] == [] and me["data"]["type"] == "PARTNER_ADMIN"
    assert isinstance(me["data"]["id"], int)
    clients = api.call("GET", "/api/v2/client/accessible-clients").json()["data"]
    assert len(clients) >= 2 and all(isinstance(c["id"], str) for c in clients)


def test_bootstrap_resources(api):
    partner = api.call("GET", "/api/v1/bootstrap/resources?types=PARTNER_PROFILE_LISTS").json()
    assert set(partner) == {"PARTNER_PROFILE_LISTS"}
    partner_ids = {item["id"] for item in partner["PARTNER_PROFILE_LISTS"]}
    clients = api.call("GET", "/api/v1/bootstrap/resources?types=CLIENT_PROFILE_LISTS").json()
    client_ids = {item["id"] for item in clients["CLIENT_PROFILE_LISTS"]}
    assert partner_ids & client_ids, "list ids overlap between partner and workspaces"
    item = clients["CLIENT_PROFILE_LISTS"][0]
    assert {"mongoId", "id", "clientId", "name", "description", "isDeleted", "createdTime",
            "modifiedTime", "createdTimeMillis", "modifiedTimeMillis"} <= set(item)
    one = api.call("GET", "/api/v1/bootstrap/resources?types=CLIENT_PROFILE_LISTS&clientId=5547")
    assert {i["clientId"] for i in one.json()["CLIENT_PROFILE_LISTS"]} == {5547}
    fields = api.call("GET", "/api/v1/bootstrap/resources?types=PROFILE_CUSTOM_FIELDS")
    raw = fields.body.decode("utf-8")
    assert "µ" in raw and "dateµcreatedTime" in raw
    both = api.call("GET", "/api/v1/bootstrap/resources?types=PARTNER_PROFILE_LISTS,"
                           "PROFILE_CUSTOM_FIELDS").json()
    assert set(both) == {"PARTNER_PROFILE_LISTS", "PROFILE_CUSTOM_FIELDS"}
    assert api.call("GET", "/api/v1/bootstrap/resources?types=BOGUS").status == 400
    assert api.call("GET", "/api/v1/bootstrap/resources").status == 400


def test_profile_by_id_and_by_channel(fake, api):
    profile = fake.profiles("prod2")[3]
    reply = api.call("GET", "/api/v2/profile/" + profile["id"])
    assert reply.json() == {"data": profile, "errors": []}
    channel = profile["profiles"][0]
    reply = api.call("GET", "/api/v2/profile?snType=%s&snUserId=%s"
                     % (channel["channelType"], channel["channelId"]))
    assert reply.status == 200 and reply.json()["data"]["id"] == profile["id"]
    assert api.call("GET", "/api/v2/profile/" + "0" * 24).status == 404
    assert api.call("GET", "/api/v2/profile/nothex").status == 404
    assert api.call("GET", "/api/v2/profile?snType=SMS&snUserId=123").status == 404
    assert api.call("GET", "/api/v2/profile?snType=SMS").status == 400
    assert fake.calls("prod2", ("profile", "profile-by-channel")) == 6


def test_listing_is_sorted_ndjson(fake):
    raw = fake.control("GET", "envs/prod2/profiles", raw=True)
    lines = raw.decode("utf-8").splitlines()
    listed = [json.loads(line)["id"] for line in lines]
    assert listed == sorted(listed) and len(set(listed)) == len(listed) >= 290


def test_put_patch_delete_and_time_rules(fake, api):
    before = fake.profiles("prod2")
    newest = max(p["modifiedTime"] for p in before)
    new = {"id": "a" * 24, "contact": {"fullName": "Nuevo Perfil"}, "modifiedTime": 5}
    stored = fake.put_profile("prod2", new)
    assert stored["modifiedTime"] > newest
    assert api.call("GET", "/api/v2/profile/" + "a" * 24).json()["data"] == stored
    kept = fake.put_profile("prod2", dict(new, id="b" * 24), keep_time=True)
    assert kept["modifiedTime"] == 5
    patched = fake.patch_profile("prod2", "a" * 24, {"demographics": {"gender": "F"}})
    assert patched["contact"] == new["contact"] and patched["demographics"] == {"gender": "F"}
    assert patched["modifiedTime"] > stored["modifiedTime"]
    fake.delete_profile("prod2", "a" * 24)
    fake.delete_profile("prod2", before[0]["id"])
    assert fake.profile("prod2", "a" * 24) is None
    assert fake.profile("prod2", before[0]["id"]) is None
    assert api.call("GET", "/api/v2/profile/" + before[0]["id"]).status == 404
    after = {p["id"] for p in fake.profiles("prod2")}
    assert after == {p["id"] for p in before[1:]} | {"b" * 24}
    fake.put_profile("prod2", before[0])
    assert fake.profile("prod2", before[0]["id"])["contact"] == before[0].get("contact")


def test_hostile_ids_can_be_served(fake, api):
    hostile = {"../escape", "a/b", "", "x" * 300, "nul\u0000byte"}
    for pid in hostile:
        fake.put_profile("prod2", {"id": pid, "modifiedTime": 1}, keep_time=True)
    ids = [p["id"] for p in api.search_all({"filter": {"type": "LTE", "key": "modifiedTime",
                                                       "values": [1]}, "page": {"size": 10}})[0]]
    assert set(ids) == hostile
    assert fake.profile("prod2", "a/b")["id"] == "a/b"
    assert api.call("GET", "/api/v2/profile/a%2Fb").json()["data"]["id"] == "a/b"
    for pid in ids:
        fake.delete_profile("prod2", pid)


def test_touch_changes_visible_field_and_time(fake, api):
    oldest = api.search({"page": {"size": 2}}).json()["data"]["results"]
    touched = fake.touch("prod2", count=2)
    assert touched == [p["id"] for p in oldest]
    for old in oldest:
        new = fake.profile("prod2", old["id"])
        assert new["modifiedTime"] > old["modifiedTime"]
        assert new["contact"]["address"]["city"] != old.get("contact", {}).get("address", {}).get("city")
    other = fake.profiles("prod2")[10]["id"]
    assert fake.touch("prod2", ids=[other]) == [other]
    assert fake.calls() == 1
