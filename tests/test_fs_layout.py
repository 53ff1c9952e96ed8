"""The tree a mount shows: every path of the layout against the fake's own
data, profiles.ndjson, symlinks of lists and channels, .status.json."""
import json
import os
import re
import subprocess

import fsutil
from fsutil import Expected

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def test_root_lists_logged_in_environments(mounted):
    fake, m = mounted(names=("prod2", "qa4"))
    assert sorted(os.listdir(m.path)) == ["prod2", "qa4"]
    assert fsutil.api_calls(fake, None) == 0


def test_environment_entries(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    assert set(os.listdir(root)) == fsutil.ENV_ENTRIES
    assert sorted(os.listdir(root / "lists")) == ["partner", "workspace"]
    assert fsutil.api_calls(fake) == fsutil.pages(250)


def test_every_path_holds_the_fakes_data(mounted):
    fake, m = mounted()
    fsutil.check_tree(m.path / "prod2", Expected(fake))


def test_every_path_of_a_second_environment(mounted):
    fake, m = mounted(names=("prod2", "qa4"))
    fsutil.check_tree(m.path / "qa4", Expected(fake, "qa4"))
    fsutil.check_tree(m.path / "prod2", Expected(fake, "prod2"))


def test_list_and_workspace_directories(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = m.path / "prod2" / "lists"
    assert sorted(os.listdir(root / "partner")) == \
        sorted(str(item["id"]) for item in want.partner_lists)
    spaces = {str(item["clientId"]) for item in want.client_lists}
    assert sorted(os.listdir(root / "workspace")) == sorted(spaces)
    for space in spaces:
        assert sorted(os.listdir(root / "workspace" / space)) == sorted(
            str(item["id"]) for item in want.client_lists
            if str(item["clientId"]) == space)


def test_profile_files_are_pretty_with_a_final_newline(mounted):
    fake, m = mounted()
    want = Expected(fake)
    profiles = m.path / "prod2" / "profiles"
    for pid, profile in want.profiles.items():
        data = fsutil.read(profiles / f"{pid}.json")
        assert data.endswith(b"}\n") and not data.endswith(b"\n\n"), pid
        assert b"\n\t\"id\":" in data, pid
        assert fsutil.same_json(data, profile), pid
        data.decode("utf-8")
        assert fsutil.read(profiles / f"{pid}.json") == data


def test_ndjson_has_one_line_per_profile_sorted_by_id(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = m.path / "prod2"
    data = fsutil.read(root / "profiles.ndjson")
    fsutil.check_ndjson(data, want)
    assert len(data.splitlines()) == 250
    for line in data.splitlines()[:25]:
        pid = json.loads(line)["id"]
        assert json.loads(fsutil.read(root / "profiles" / f"{pid}.json")) == json.loads(line)


def test_jq_reads_the_files(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    res = subprocess.run(["jq", "-r", ".id", str(root / "profiles.ndjson")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    ids = res.stdout.split()
    assert ids == sorted(p["id"] for p in fake.profiles("prod2"))
    res = subprocess.run(["jq", "-r", ".name", str(root / "me.json")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout == "Ada Admin\n"


def test_find_counts_every_file_and_link(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = str(m.path / "prod2")

    def count(kind):
        res = subprocess.run(f"find {root} -type {kind} | wc -l", shell=True,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        return int(res.stdout)

    assert count("f") == want.file_count()
    assert count("l") == len(want.links())
    res = subprocess.run(["find", root + "/profiles", "-name", "*.json"],
                         capture_output=True, text=True, timeout=120)
    assert len(res.stdout.split()) == 250


def test_symlinks_resolve_to_their_profiles(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = m.path / "prod2"
    links = want.links()
    assert any(p.startswith("channels/") for p in links)
    assert any(p.startswith("lists/partner/") for p in links)
    assert any(p.startswith("lists/workspace/") for p in links)
    for path, target in links.items():
        pid = target.rsplit("/", 1)[1][:-len(".json")]
        assert os.readlink(root / path) == target
        assert os.path.realpath(root / path) == str(root / "profiles" / f"{pid}.json")
        assert fsutil.same_json(fsutil.read(root / path), want.profiles[pid]), path


def test_list_json_is_the_bootstrap_object(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = m.path / "prod2"
    for item in want.partner_lists:
        data = fsutil.read(root / "lists" / "partner" / str(item["id"]) / "list.json")
        assert fsutil.same_json(data, item)
    for item in want.client_lists:
        data = fsutil.read(root / "lists" / "workspace" / str(item["clientId"])
                           / str(item["id"]) / "list.json")
        assert fsutil.same_json(data, item)


def test_status_json(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    os.listdir(root / "profiles")
    fake.reset_counters()
    text = fsutil.read(root / ".status.json").decode()
    status = json.loads(text)
    assert fsutil.api_calls(fake) == 0
    assert set(status) >= {"env", "user", "token_expires_at", "last_refresh", "calls",
                           "rate_limit_waits", "sync", "last_error"}
    assert status["env"] == "prod2"
    assert ISO_UTC.match(status["token_expires_at"]), status["token_expires_at"]
    assert status["last_refresh"] is None or ISO_UTC.match(status["last_refresh"])
    assert status["calls"]["search"] == {"200": 1}     # one page of 1000
    assert "search-next" not in status["calls"]
    assert set(status["rate_limit_waits"]) >= {"count", "seconds"}
    assert status["rate_limit_waits"]["count"] == 0
    sync = status["sync"]
    assert set(sync) >= {"state", "profiles", "last_sync", "last_full_sync",
                         "newest_modified", "page_size"}
    assert sync["page_size"] == fsutil.PAGE
    assert sync["state"] == "complete" and sync["profiles"] == 250
    assert sync["last_sync"] is not None and sync["last_full_sync"] is not None
    assert status["last_error"] is None
    tokens = fake.tokens("prod2")
    assert tokens["issued"]
    for token in tokens["issued"]:
        assert token not in text


def test_empty_environment(mounted):
    fake, m = mounted(profiles=0)
    root = m.path / "prod2"
    assert os.listdir(root / "profiles") == []
    assert fsutil.calls_by_endpoint(fake) == {"search": 1}
    assert os.stat(root / "profiles.ndjson").st_size == 0
    assert fsutil.read(root / "profiles.ndjson") == b""
    assert os.listdir(root / "channels") == []
    for lid in os.listdir(root / "lists" / "partner"):
        assert os.listdir(root / "lists" / "partner" / lid / "profiles") == []
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "bootstrap": 1}


def test_ndjson_reads_at_any_offset(mounted):
    fake, m = mounted()
    path = m.path / "prod2" / "profiles.ndjson"
    whole = fsutil.read(path)
    assert os.stat(path).st_size == len(whole)
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset, size in [(0, 1), (1, 4095), (4095, 2), (len(whole) - 1, 10),
                             (len(whole), 10), (len(whole) + 100, 10),
                             (len(whole) // 2, 200000), (12345, 131072)]:
            assert os.pread(fd, size, offset) == whole[offset:offset + size], offset
    finally:
        os.close(fd)
    chunks = []
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(777)
            if not chunk:
                break
            chunks.append(chunk)
    assert b"".join(chunks) == whole
