"""Helpers for the filesystem tests: the fake's data laid out the way a mount
must show it, API call counts, reading a tree back, and finding daemons.

Expected data comes from the fake itself: profiles through its control
interface, the rest through its API with the token sprinklrfs already holds
(reading a token rotates nothing). Reset counters after building one.
"""
import json
import math
import os
import re
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import util

# The API endpoints a mount may call; "token" (OAuth) is counted apart.
API = ("me", "accessible-clients", "bootstrap", "search", "search-next",
       "profile", "profile-by-channel")
VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,200}\Z")
ENV_ENTRIES = {"me.json", "workspaces.json", "custom-fields.json", "profiles",
               "profiles.ndjson", "profiles.csv", "lists", "channels", ".status.json"}
# The exports of every profile, and of each list's members in its directory.
EXPORTS = ("profiles.ndjson", "profiles.csv")
BOOTSTRAP = ("PARTNER_PROFILE_LISTS", "CLIENT_PROFILE_LISTS",
             "PROFILE_CUSTOM_FIELDS")
UNLIMITED = {"rate_per_second": 0, "rate_per_hour": 0}


def enter(fake, m, env="prod2"):
    """Look at MOUNT/env (which lists its profiles), then reset the counters."""
    os.stat(m.path / env)
    fake.reset_counters()


def api_calls(fake, env="prod2", endpoint=API, status=None):
    """API calls (never token calls) counted at the fake for env."""
    return fake.calls(env, endpoint, status)


def calls_by_endpoint(fake, env="prod2"):
    """{endpoint: count} of API calls for env, every status together."""
    by_endpoint = fake.counters()["calls"].get(env, {})
    return {name: sum(by_status.values())
            for name, by_status in by_endpoint.items() if name in API}


# What page_size=auto asks for first, and what a fake of the default
# max_page_size (1000) accepts: a mount's page size unless a test gives one.
PAGE = 1000


def pages(count, page_size=PAGE):
    """Calls a full listing of count profiles costs (an empty one costs one)."""
    return max(1, math.ceil(count / page_size))


# What `sprinklrfs sync` fetches again once every document has been read:
# me, workspaces, custom fields and both kinds of lists.
DOCUMENTS = {"me": 1, "accessible-clients": 1, "bootstrap": 3}


def listing_calls(count, page_size=PAGE):
    n = pages(count, page_size)
    return {"search": 1, "search-next": n - 1} if n > 1 else {"search": 1}


def api_get(fake, env, path):
    """GET path from the fake's API for env with the live token; parsed JSON."""
    token = fake.tokens(env)["current"]["access_token"]
    prefix = "" if env == "prod" else "/" + env
    conn = fake.connect()
    try:
        conn.request("GET", prefix + path, headers={
            "Authorization": "Bearer " + token, "Key": fake.env(env)["key"],
            "Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 200, (path, resp.status, body)
    return json.loads(body)


def dumps(obj):
    """Canonical text of a JSON value that keeps key order and int/float."""
    return json.dumps(obj, ensure_ascii=False)


def same_json(data, obj):
    """True when the bytes data hold the JSON value obj, keys in the same order."""
    return dumps(json.loads(data)) == dumps(obj)


class Expected:
    """What MOUNT/ENV must hold, built from the fake's own data."""

    def __init__(self, fake, env="prod2"):
        self.env = env
        everything = fake.profiles(env)
        self.profiles = {p["id"]: p for p in everything if VALID_ID.match(p["id"])}
        self.me = api_get(fake, env, "/api/v2/me")["data"]
        self.workspaces = api_get(fake, env, "/api/v2/client/accessible-clients")["data"]
        boot = api_get(fake, env, "/api/v1/bootstrap/resources?types="
                       + ",".join(BOOTSTRAP))
        self.partner_lists = boot["PARTNER_PROFILE_LISTS"]
        self.client_lists = boot["CLIENT_PROFILE_LISTS"]
        self.custom_fields = boot["PROFILE_CUSTOM_FIELDS"]

    def sorted_profiles(self):
        """Profiles sorted by id, bytewise."""
        return [self.profiles[pid] for pid in
                sorted(self.profiles, key=lambda pid: pid.encode())]

    def newest(self):
        return max(p["modifiedTime"] for p in self.profiles.values())

    def files(self):
        """{relative path: JSON value} of every regular file but the
        generated ones (the exports, .status.json)."""
        out = {"me.json": self.me, "workspaces.json": self.workspaces,
               "custom-fields.json": self.custom_fields}
        for pid, profile in self.profiles.items():
            out[f"profiles/{pid}.json"] = profile
        for item in self.partner_lists:
            out[f"lists/partner/{item['id']}/list.json"] = item
        for item in self.client_lists:
            out[f"lists/workspace/{item['clientId']}/{item['id']}/list.json"] = item
        return out

    def exports(self):
        """Relative paths of the exports: the environment's and each list's."""
        dirs = [""] + [f"lists/partner/{item['id']}/" for item in self.partner_lists] + \
            [f"lists/workspace/{item['clientId']}/{item['id']}/" for item in self.client_lists]
        return [d + name for d in dirs for name in EXPORTS]

    def list_json_paths(self):
        return [path for path in self.files() if path.startswith("lists/")]

    def links(self):
        """{relative path: symlink target} of every symlink."""
        out = {}
        partner = {item["id"] for item in self.partner_lists}
        client = {(str(item["clientId"]), item["id"]) for item in self.client_lists}
        for pid, profile in self.profiles.items():
            workflow = profile.get("profileWorkflow") or {}
            for lid in workflow.get("profileLists") or []:
                if lid in partner:
                    out[f"lists/partner/{lid}/profiles/{pid}.json"] = \
                        f"../../../../profiles/{pid}.json"
            for space in workflow.get("profileSpaceWorkflows") or []:
                for lid in space.get("profileLists") or []:
                    if (str(space["spaceId"]), lid) in client:
                        out[f"lists/workspace/{space['spaceId']}/{lid}/profiles/"
                            f"{pid}.json"] = f"../../../../../profiles/{pid}.json"
            for channel in profile.get("profiles") or []:
                out[f"channels/{channel['channelType']}/{channel['channelId']}.json"] = \
                    f"../../profiles/{pid}.json"
        return out

    def file_count(self):
        """Regular files in MOUNT/ENV, the exports and .status.json included."""
        return len(self.files()) + len(self.exports()) + 1


def scan(root, skip=()):
    """({path: bytes} of regular files, {path: target} of symlinks, [dirs]),
    paths relative to root; names in skip (relative paths) are left out."""
    files, links, dirs = {}, {}, []
    root = Path(root)
    for dirpath, dirnames, names in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirs.extend(str(rel / d) for d in dirnames)
        for name in names:
            path = Path(dirpath, name)
            key = str(rel / name) if str(rel) != "." else name
            if key in skip:
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                links[key] = os.readlink(path)
            else:
                files[key] = path.read_bytes()
    return files, links, dirs


def differences(got, want, limit=5):
    """A short description of how two key sets differ, or ''."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if not missing and not extra:
        return ""
    return f"missing {len(missing)} {missing[:limit]}, extra {len(extra)} {extra[:limit]}"


def check_ndjson(data, expected):
    """profiles.ndjson bytes against the expected profiles, sorted by id."""
    assert data.endswith(b"\n") or data == b""
    lines = data.split(b"\n")[:-1] if data else []
    want = expected.sorted_profiles()
    assert len(lines) == len(want)
    ids = []
    for line, profile in zip(lines, want):
        assert b"\t" not in line and not line.startswith(b" ")
        assert same_json(line, profile), (line[:200], profile["id"])
        ids.append(json.loads(line)["id"])
    assert ids == sorted(ids, key=lambda pid: pid.encode())


def check_tree(root, expected):
    """The tree at root (a mount's ENV directory or a copy of it) holds
    exactly the fake's data; .status.json is not compared."""
    files, links, _ = scan(root, skip={".status.json"})
    want_files = expected.files()
    exports = set(expected.exports())
    assert exports <= set(files)
    assert differences(set(files) - exports, want_files) == ""
    for path, obj in want_files.items():
        data = files[path]
        assert data.endswith(b"\n"), path
        assert same_json(data, obj), path
    check_ndjson(files["profiles.ndjson"], expected)
    want_links = expected.links()
    check_list_exports(files, exports, want_links)
    assert differences(links, want_links) == ""
    wrong = {p: (t, want_links[p]) for p, t in links.items() if t != want_links[p]}
    assert not wrong, list(wrong.items())[:5]


def check_list_exports(files, exports, links):
    """Each list's profiles.ndjson holds its members (its links), by id."""
    for path in exports:
        if not path.startswith("lists/") or not path.endswith(".ndjson"):
            continue
        prefix = path.rsplit("/", 1)[0] + "/profiles/"
        want = sorted((p[len(prefix):-len(".json")] for p in links if p.startswith(prefix)),
                      key=str.encode)
        assert [json.loads(line)["id"] for line in files[path].splitlines()] == want, path


def wait_past(seconds, since):
    """Poll the clock until seconds have passed since the monotonic time since."""
    util.wait_for(lambda: time.monotonic() >= since + seconds,
                  timeout=seconds + 10, interval=0.02,
                  what=f"{seconds}s to pass")


def errno_of(action):
    """The errno action() fails with, or None when it succeeds."""
    try:
        action()
    except OSError as err:
        return err.errno
    return None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def read_unbuffered(path):
    """A file's bytes as cat reads them: buffered Python asks isatty (an
    ioctl, which FUSE passes to the daemon); unbuffered it does not."""
    with open(path, "rb", buffering=0) as f:
        return f.readall()


def requests_since(m, mark):
    """The opcodes that reached the daemon (libfuse's -d trace) since the
    log's length was mark."""
    return re.findall(r"opcode: (\w+)", m.log()[mark:])


# A profile's node id has the top bit set (fs/fuse/inodes.h).
PROFILE_NODE = 1 << 63


def profile_requests_since(m, mark):
    """(opcode, node id) of the requests since mark that were about a
    profile: its node id's, or a LOOKUP (which names a child of its node
    id, a profile or not)."""
    found = re.findall(r"opcode: (\w+) \(\d+\), nodeid: (\d+)",
                       m.log()[mark:])
    return [(op, int(node)) for op, node in found
            if int(node) >= PROFILE_NODE or op == "LOOKUP"]


def daemon_pids(mountpoint):
    """Pids of processes whose command line names mountpoint (the daemon)."""
    target = str(mountpoint).encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if target in argv and any(a.endswith(b"sprinklrfs") for a in argv[:1]):
            out.append(int(entry))
    return out


def zombie(pid):
    try:
        fields = Path("/proc", str(pid), "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True
    return fields[0] == "Z"


def force_unmount(mountpoint):
    """Cleanup after a failure: never leave a mount behind."""
    if os.path.ismount(mountpoint):
        util.fusermount_u(mountpoint, lazy=True)


def rsync(src, dst, *extra):
    """rsync -a src/ dst/ --itemize-changes; returns its output lines."""
    res = subprocess.run(["rsync", "-a", "--itemize-changes", *extra,
                          f"{src}/", f"{dst}/"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def ls_l(directory):
    """`ls -l directory`'s lines, the total left out."""
    res = subprocess.run(["ls", "-l", str(directory)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()[1:]


def status(m, env="prod2"):
    """MOUNT/env/.status.json, parsed (reading it costs no call)."""
    return json.loads(read(m.path / env / ".status.json"))


def wait_log(m, pattern, timeout=10):
    """Poll the daemon's log until a line matches the regex pattern."""
    regex = re.compile(pattern)
    return util.wait_for(lambda: any(regex.search(line)
                                     for line in m.log().splitlines()),
                         timeout=timeout, what=f"a daemon log line matching {pattern!r}")


def unmount_busy(m, timeout=30):
    """fusermount3 -u a mount that readers keep busy: repeat the unmount
    until the kernel lets it go, then require the daemon to exit 0 with a
    clean log, as Mount.unmount does."""
    last = []

    def attempt():
        res = util.fusermount_u(m.path)
        last[:] = [res.stderr]
        return res.returncode == 0

    try:
        util.wait_for(attempt, timeout=timeout, interval=0.005,
                      what="fusermount3 -u to succeed")
    except TimeoutError:
        m.kill()
        raise AssertionError(f"fusermount3 -u kept failing: {last}")
    m.finish(timeout)


def store_path(keyring, env="prod2"):
    return Path(keyring.env["XDG_CACHE_HOME"]) / "sprinklrfs" / f"{env}.sqlite"


def store_query(path, sql):
    """One value from the store, read-only, as another process sees it."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def wait_complete(keyring, m, env="prod2"):
    """`sprinklrfs sync --wait` on MOUNT/env; its output."""
    res = util.run([util.binary(), "sync", "--wait", m.path / env], keyring.env)
    assert res.returncode == 0, res.stderr
    return res.stdout


def kill_daemon(m):
    """kill -9 the mount's daemon and detach its mount point."""
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait(timeout=10)
    m.proc = None
    util.fusermount_u(m.path, lazy=True)
