"""profiles.csv and the lists' exports (a list's members as profiles.ndjson
and profiles.csv), read the way users load them: Python's csv module,
sqlite3's .import --csv and psql's \\copy ... (FORMAT csv, HEADER). What
they must hold is worked out here again from the fake's profiles and
custom-fields.json, following the README's CSV section."""
import collections
import csv
import datetime
import errno
import io
import json
import os
import sqlite3
import subprocess
import time

import pytest

import fsutil
import util
from fsutil import Expected, errno_of, read
from test_pipelines import postgres  # noqa: F401 (a fixture)

FIXED = ["id", "created", "modified", "first_name", "last_name", "full_name",
         "email", "phone", "city", "country", "channels", "partner_lists",
         "workspace_lists"]
QUOTES = "csv_quotes_0001"
BARE = "csv_bare_0002"
HARD_FULL = 'Zoë "Q" O\'Brien, Jr.\nsecond line\r\nthird'
ORPHAN = "_c_ffffffffffffffffffffffff"   # a key custom-fields.json lacks


# --- what the files must hold --------------------------------------------------

def keys_by_label(fields):
    out = collections.defaultdict(list)
    for field in fields:
        out[field["label"]["en"]].append(field["fieldName"])
    return out


def tricky_profiles(fields):
    """Profiles whose fields need every rule of the format."""
    by_label = keys_by_label(fields)
    tier, second_tier = by_label["Tier"]
    interests, visits = by_label["Interests"][0], by_label["Store Visits"][0]
    quotes = {
        "id": QUOTES,
        "contact": {"firstName": 'Zoë "Q"', "lastName": "O'Brien, Jr.",
                    "fullName": HARD_FULL, "email": "zoe@example.com",
                    "phoneNo": "+15550100",
                    "address": {"city": "São Paulo", "country": "BR"}},
        "profiles": [{"channelType": "EMAIL", "channelId": "a|b\\c@example.com"},
                     {"channelType": "TWITTER", "channelId": "1556005385642905603"}],
        "profileWorkflow": {
            "profileLists": [1, 2],
            "customProperties": {
                tier: ["Gold"],
                interests: ["Sports", "Mu|sic", "back\\slash", 'quote " and, comma'],
                second_tier: ["Platinum\nline two"],
                ORPHAN: ["orphan, value"]},
            "profileSpaceWorkflows": [
                {"spaceId": "4706", "profileLists": [1, 3],
                 "customProperties": {tier: ["Silver"]}},
                {"spaceId": "5547", "profileLists": [2],
                 "customProperties": {visits: ["12"]}}]},
        "createdTime": 1709553600000}
    bare = {"id": BARE, "profiles": []}
    return [quotes, bare]


def escaped(value):
    return value.replace("\\", "\\\\").replace("|", "\\|")


def text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def joined(values):
    if not isinstance(values, list):
        values = [values]
    return "|".join(escaped(text(v)) for v in values if v is not None)


def iso(ms):
    if ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def held(profile):
    """{(space, key): values} of the custom fields a profile holds."""
    flow = profile.get("profileWorkflow") or {}
    out = {("", k): v for k, v in (flow.get("customProperties") or {}).items()}
    for space in flow.get("profileSpaceWorkflows") or []:
        for key, values in (space.get("customProperties") or {}).items():
            out[(str(space["spaceId"]), key)] = values
    return out


def columns(fields, profiles):
    """[(space, key, header)] of the custom columns, in order."""
    counts = collections.Counter([f["label"]["en"].casefold() for f in fields]
                                 + FIXED)
    titles, out = {}, []
    for field in fields:
        key, label = field["fieldName"], field["label"]["en"]
        titles[key] = f"{label} ({key})" if counts[label.casefold()] > 1 else label
        out.append(("", key, titles[key]))
    used = sorted({pair for p in profiles for pair in held(p)},
                  key=lambda pair: (pair[0].encode(), pair[1].encode()))
    out += [("", key, key) for space, key in used if not space and key not in titles]
    out += [(space, key, f"{titles.get(key, key)} (workspace {space})")
            for space, key in used if space]
    return out


def row(profile, cols):
    contact = profile.get("contact") or {}
    address = contact.get("address") or {}
    flow = profile.get("profileWorkflow") or {}
    channels = "|".join(escaped(f"{c['channelType']}:{c['channelId']}")
                        for c in profile.get("profiles") or [])
    spaces = "|".join(f"{s['spaceId']}:{lid}"
                      for s in flow.get("profileSpaceWorkflows") or []
                      for lid in s.get("profileLists") or [])
    out = [profile["id"], iso(profile.get("createdTime")),
           iso(profile.get("modifiedTime"))]
    out += [contact.get(k, "") for k in ("firstName", "lastName", "fullName",
                                         "email", "phoneNo")]
    out += [address.get("city", ""), address.get("country", ""), channels,
            joined(flow.get("profileLists") or []), spaces]
    values = held(profile)
    out += [joined(values[(space, key)]) if (space, key) in values else ""
            for space, key, _ in cols]
    return out


def table(expected, profiles=None):
    """The rows (header first) a profiles.csv of these profiles holds."""
    everything = expected.sorted_profiles()
    cols = columns(expected.custom_fields, everything)
    chosen = everything if profiles is None else profiles
    return [FIXED + [title for _, _, title in cols]] + [row(p, cols) for p in chosen]


def parsed(data):
    assert not data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""),
                           strict=True))


def check_pieces(path, data):
    """Reads that start inside a line, with the kernel's pages dropped first,
    give the same bytes (the daemon finds the line under an offset)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        for off in (len(data) * 3 // 4, len(data) // 3, 7, max(0, len(data) - 5)):
            assert os.pread(fd, 5000, off) == data[off:off + 5000], (path, off)
    finally:
        os.close(fd)


def members(expected, space, lid):
    """A list's members, sorted by id."""
    out = []
    for profile in expected.sorted_profiles():
        flow = profile.get("profileWorkflow") or {}
        if space == "" and lid in (flow.get("profileLists") or []):
            out.append(profile)
        elif space and any(str(s["spaceId"]) == space and lid in (s.get("profileLists") or [])
                           for s in flow.get("profileSpaceWorkflows") or []):
            out.append(profile)
    return out


def list_dirs(expected):
    """{(space, list id): its directory, relative to ENV}."""
    out = {("", item["id"]): f"lists/partner/{item['id']}" for item in expected.partner_lists}
    for item in expected.client_lists:
        space = str(item["clientId"])
        out[(space, item["id"])] = f"lists/workspace/{space}/{item['id']}"
    return out


# --- the mount -----------------------------------------------------------------

def synced(keyring, make_fake, mount, *options, profiles=300):
    """A fake with generated profiles and the tricky ones, a mount whose
    first listing is complete, its ENV path and what it must hold; the
    counters are reset."""
    fake = make_fake(profiles=profiles, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    for profile in tricky_profiles(Expected(fake).custom_fields):
        fake.put_profile("prod2", profile)
    expected = Expected(fake)
    m = mount(*options)
    root = m.path / "prod2"
    res = util.run([util.binary(), "sync", "--wait", root], keyring.env)
    assert res.returncode == 0, res.stderr
    fake.reset_counters()
    return fake, m, root, expected


def test_profiles_csv_holds_every_profile_and_costs_nothing(keyring, make_fake, mount):
    fake, m, root, expected = synced(keyring, make_fake, mount)
    path = root / "profiles.csv"
    size = os.stat(path).st_size
    data = read(path)
    # the custom fields' labels: one document, which a later read has
    assert fsutil.calls_by_endpoint(fake) == {"bootstrap": 1}
    assert len(data) == size
    assert data.endswith(b"\r\n")
    rows = parsed(data)
    want = table(expected)
    assert rows[0] == want[0]
    assert len(rows) == len(expected.profiles) + 1 == 303
    assert [r[0] for r in rows[1:]] == sorted(expected.profiles, key=str.encode)
    for got, wanted in zip(rows[1:], want[1:]):
        assert got == wanted, got[0]
    fake.reset_counters()
    assert read(path) == data
    check_pieces(path, data)
    assert fsutil.api_calls(fake) == 0
    header = rows[0]
    by_id = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    hard = by_id[QUOTES]
    assert hard["full_name"] == HARD_FULL and hard["city"] == "São Paulo"
    assert hard["Interests"] == 'Sports|Mu\\|sic|back\\\\slash|quote " and, comma'
    assert hard["channels"] == "EMAIL:a\\|b\\\\c@example.com|TWITTER:1556005385642905603"
    assert hard["workspace_lists"] == "4706:1|4706:3|5547:2"
    assert hard[ORPHAN] == "orphan, value"
    tier = keys_by_label(expected.custom_fields)["Tier"][0]
    assert hard[f"Tier ({tier}) (workspace 4706)"] == "Silver"
    assert hard["Store Visits (workspace 5547)"] == "12"
    tiers = [h for h in header if h.startswith("Tier (_c_") and "workspace" not in h]
    assert len(tiers) == 2 and {hard[t] for t in tiers} == {"Gold", "Platinum\nline two"}
    assert by_id[BARE]["created"] == "" and by_id[BARE]["first_name"] == ""
    m.unmount()


def test_list_exports_hold_their_members(keyring, make_fake, mount):
    fake, m, root, expected = synced(keyring, make_fake, mount)
    read(root / "profiles.csv")
    util.run(["ls", "-R", root / "lists"], check=True)
    # the lists' two documents, as list.json costs them
    assert fsutil.calls_by_endpoint(fake) == {"bootstrap": 3}
    fake.reset_counters()
    dirs = list_dirs(expected)
    assert ("", 1) in dirs and ("4706", 1) in dirs     # one id, two lists
    for (space, lid), rel in dirs.items():
        want = members(expected, space, lid)
        ndjson, data = root / rel / "profiles.ndjson", None
        data = read(ndjson)
        assert len(data) == os.stat(ndjson).st_size
        fsutil.check_ndjson(data, _Only(want))
        path = root / rel / "profiles.csv"
        data = read(path)
        assert len(data) == os.stat(path).st_size
        assert parsed(data) == table(expected, want), rel
        check_pieces(path, data)
    assert [p["id"] for p in members(expected, "", 1)] != \
        [p["id"] for p in members(expected, "4706", 1)]
    assert QUOTES in read(root / "lists/workspace/4706/3/profiles.ndjson").decode()
    assert fsutil.api_calls(fake) == 0
    names = sorted(os.listdir(root / "lists/partner/1"))
    assert names == ["list.json", "profiles", "profiles.csv", "profiles.ndjson"]
    m.unmount()


class _Only:
    """An Expected-like view of some profiles, for fsutil.check_ndjson."""

    def __init__(self, profiles):
        self.profiles = {p["id"]: p for p in profiles}

    def sorted_profiles(self):
        return [self.profiles[pid] for pid in sorted(self.profiles, key=str.encode)]


def test_loaders_take_profiles_csv(keyring, make_fake, mount, postgres, tmp_path):  # noqa: F811
    fake, m, root, expected = synced(keyring, make_fake, mount)
    path = root / "profiles.csv"
    want = table(expected)
    db = tmp_path / "p.db"
    res = subprocess.run(["sqlite3", str(db)], input=f".import --csv {path} profiles\n",
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    with sqlite3.connect(db) as conn:
        got = [list(r) for r in conn.execute("SELECT * FROM profiles ORDER BY rowid")]
        names = [c[1] for c in conn.execute("PRAGMA table_info(profiles)")]
    assert names == want[0] and got == want[1:]
    cols = ", ".join(f"c{i} text" for i in range(len(want[0])))
    postgres.psql(f"CREATE TABLE p ({cols});\n"
                  f"\\copy p FROM '{path}' (FORMAT csv, HEADER)\n")
    out = postgres.psql("SELECT json_agg(json_build_array("
                        + ", ".join(f"coalesce(c{i}, '')" for i in range(len(want[0])))
                        + ") ORDER BY c0 COLLATE \"C\") FROM p;")
    assert json.loads(out) == want[1:]
    assert fsutil.calls_by_endpoint(fake) == {"bootstrap": 1}   # the labels
    m.unmount()


def test_an_open_export_keeps_its_snapshot(keyring, make_fake, mount):
    fake, m, root, expected = synced(keyring, make_fake, mount, "-o", "ttl=1",
                                     profiles=200)
    path, list_csv = root / "profiles.csv", root / "lists/partner/1/profiles.csv"
    before, list_before = read(path), read(list_csv)
    pid = sorted(expected.profiles, key=str.encode)[5]
    with open(path, "rb") as reader, open(list_csv, "rb") as list_reader:
        head = reader.read(100)
        done = time.monotonic()
        fake.put_profile("prod2", dict(expected.profiles[pid],
                                       contact={"fullName": 'Changed, "now"'},
                                       profileWorkflow={"profileLists": [1]}))
        fsutil.wait_past(1.2, done)
        os.listdir(root / "profiles")  # the sync that ttl asks for
        after, list_after = read(path), read(list_csv)
        assert head + reader.read() == before
        assert list_reader.read() == list_before
        assert os.fstat(reader.fileno()).st_size == len(before)
    assert b'"Changed, ""now"""' in after and b"Changed" not in before
    assert os.stat(path).st_size == len(after)
    assert pid in [r[0] for r in parsed(list_after)[1:]]
    assert pid not in [r[0] for r in parsed(list_before)[1:]]
    assert os.stat(list_csv).st_size == len(list_after)
    assert parsed(after) == table(Expected(fake))
    m.unmount()


def test_exports_are_eagain_before_the_first_full_listing(mounted):
    fake, m = mounted("-o", "page_size=50,read_timeout=2", profiles=200)
    fake.fault("hang", 100000, env="prod2", endpoint="search-next")
    root = m.path / "prod2"
    for rel in ("profiles.ndjson", "profiles.csv", "lists/partner/1/profiles.csv",
                "lists/workspace/4706/1/profiles.ndjson"):
        assert errno_of(lambda: read(root / rel)) == errno.EAGAIN, rel
    fake.clear_faults()
    m.kill()


# What versions 1 and 2 of the store were, made from the current one.
# Version 2 kept the custom fields each profile holds (prop) and its totals
# by trigger; version 1 had no profiles.csv at all.
TRIGGERS_2 = """
DROP TRIGGER profile_delete;
CREATE TABLE prop(profile INTEGER NOT NULL, space TEXT NOT NULL,
 key TEXT NOT NULL, PRIMARY KEY(profile, space, key)) WITHOUT ROWID;
CREATE TRIGGER profile_insert AFTER INSERT ON profile BEGIN
 UPDATE total SET profiles = profiles + 1,
  ndjson = ndjson + new.compact_size + 1, csv = csv + new.csv_size;
 END;
CREATE TRIGGER profile_update AFTER UPDATE OF compact_size, csv_size ON profile BEGIN
 UPDATE total SET ndjson = ndjson - old.compact_size + new.compact_size,
  csv = csv - old.csv_size + new.csv_size;
 END;
CREATE TRIGGER profile_delete AFTER DELETE ON profile BEGIN
 UPDATE total SET profiles = profiles - 1,
  ndjson = ndjson - old.compact_size - 1, csv = csv - old.csv_size;
 DELETE FROM body WHERE rowid = old.rowid;
 DELETE FROM csv WHERE rowid = old.rowid;
 DELETE FROM member WHERE profile = old.rowid;
 DELETE FROM channel WHERE profile = old.rowid;
 DELETE FROM prop WHERE profile = old.rowid;
 END;
CREATE TRIGGER prop_insert AFTER INSERT ON prop BEGIN
 INSERT INTO field VALUES(new.space, new.key, 1)
  ON CONFLICT(space, key) DO UPDATE SET profiles = profiles + 1;
 END;
CREATE TRIGGER prop_delete AFTER DELETE ON prop BEGIN
 UPDATE field SET profiles = profiles - 1 WHERE space = old.space AND key = old.key;
 DELETE FROM field WHERE space = old.space AND key = old.key AND profiles <= 0;
 END;
"""
DOWNGRADE = {
    # prop's rows are left empty: the upgrade drops them, and keeps field
    2: TRIGGERS_2 + "PRAGMA user_version = 2;",
    1: """
DROP TRIGGER profile_delete;
DROP TABLE csv; DROP TABLE field;
ALTER TABLE profile DROP COLUMN csv_size;
ALTER TABLE total DROP COLUMN csv;
CREATE TRIGGER profile_insert AFTER INSERT ON profile BEGIN
 UPDATE total SET profiles = profiles + 1, ndjson = ndjson + new.compact_size + 1;
 END;
CREATE TRIGGER profile_update AFTER UPDATE OF compact_size ON profile BEGIN
 UPDATE total SET ndjson = ndjson - old.compact_size + new.compact_size;
 END;
CREATE TRIGGER profile_delete AFTER DELETE ON profile BEGIN
 UPDATE total SET profiles = profiles - 1, ndjson = ndjson - old.compact_size - 1;
 DELETE FROM body WHERE rowid = old.rowid;
 DELETE FROM member WHERE profile = old.rowid;
 DELETE FROM channel WHERE profile = old.rowid;
 END;
PRAGMA user_version = 1;
"""}

# the total row against the sums of the profiles' own sizes
TOTAL_EXACT = """SELECT t.profiles = (SELECT count(*) FROM profile),
 t.ndjson = (SELECT sum(compact_size + 1) FROM profile),
 t.csv = (SELECT sum(csv_size) FROM profile) FROM total t"""


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_store_is_upgraded_in_place(keyring, make_fake, mount, version):
    """A store made by an older version (before profiles.csv, or when
    triggers kept its totals) is upgraded at the next mount: the exports are
    the same, nothing is listed again, and its totals stay exact through
    the next changes."""
    fake, m, root, expected = synced(keyring, make_fake, mount, profiles=200)
    want = {rel: read(root / rel) for rel in
            ("profiles.csv", "profiles.ndjson", "lists/workspace/4706/1/profiles.csv")}
    m.unmount()
    store = fsutil.store_path(keyring)
    db = sqlite3.connect(store)
    db.executescript(DOWNGRADE[version])
    assert db.execute("PRAGMA user_version").fetchone() == (version,)
    db.close()
    fake.reset_counters()
    m = mount(name="again")
    root = m.path / "prod2"
    for rel, data in want.items():
        assert read(root / rel) == data, rel
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    assert fsutil.store_query(store, "PRAGMA user_version") == 3
    assert fsutil.store_query(store, "SELECT count(*) FROM sqlite_master WHERE name = 'prop'") == 0
    # a change that drops a profile's custom fields, and deletes
    ids = sorted(expected.profiles, key=str.encode)
    holder = next(pid for pid in ids if held(expected.profiles[pid]))
    fake.put_profile("prod2", dict(expected.profiles[holder],
                                   profileWorkflow={"profileLists": [1]}))
    for pid in ids[-3:]:
        fake.delete_profile("prod2", pid)
    res = util.run([util.binary(), "sync", root, "--full"], keyring.env)
    assert res.returncode == 0, res.stderr
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    assert db.execute(TOTAL_EXACT).fetchone() == (1, 1, 1)
    fields = dict(((space, key), n) for space, key, n in
                  db.execute("SELECT space, key, profiles FROM field"))
    db.close()
    assert fields == collections.Counter(
        field for p in Expected(fake).profiles.values() for field in held(p))
    assert parsed(read(root / "profiles.csv")) == table(Expected(fake))
    m.unmount()
