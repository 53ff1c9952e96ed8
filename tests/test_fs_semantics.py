"""What tools rely on: modes and owners, exact sizes, times, stable inode
numbers, extended attributes, EROFS on every change, untrusted names."""
import errno
import json
import math
import os
import stat
import subprocess

import pytest

import fsutil
import util
from fsutil import Expected


def walk(root):
    """Every path under root (root included), not following symlinks."""
    yield root
    for dirpath, dirnames, names in os.walk(root):
        for name in dirnames + names:
            yield os.path.join(dirpath, name)


def test_modes_owner_and_links(mounted):
    fake, m = mounted()
    kinds = set()
    for path in walk(m.path):
        st = os.lstat(path)
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()), path
        if stat.S_ISDIR(st.st_mode):
            assert stat.S_IMODE(st.st_mode) == 0o555, path
        elif stat.S_ISLNK(st.st_mode):
            assert stat.S_IMODE(st.st_mode) == 0o777, path
        else:
            assert stat.S_ISREG(st.st_mode), path
            assert stat.S_IMODE(st.st_mode) == 0o444, path
            assert st.st_nlink == 1, path
        kinds.add(stat.S_IFMT(st.st_mode))
    assert kinds == {stat.S_IFDIR, stat.S_IFLNK, stat.S_IFREG}


def test_uid_gid_umask_options(mounted):
    fake, m = mounted("-o", "uid=1234,gid=5678,umask=027")
    root = m.path / "prod2"
    for path in (m.path, root, root / "profiles", root / "lists" / "partner",
                 root / "channels"):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (1234, 5678), path
        assert stat.S_IMODE(st.st_mode) == 0o550, path
    pid = sorted(os.listdir(root / "profiles"))[0]
    for path in (root / "me.json", root / "profiles" / pid, root / "profiles.ndjson",
                 root / ".status.json"):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (1234, 5678), path
        assert stat.S_IMODE(st.st_mode) == 0o440, path
    link = next((root / "channels").glob("*/*.json"))
    assert os.lstat(link).st_uid == 1234


def test_sizes_blocks_match_the_bytes_of_every_file(mounted):
    fake, m = mounted()
    seen = set()
    for path in walk(m.path):
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            continue
        data = fsutil.read(path)
        assert st.st_size == len(data) > 0, path
        assert st.st_blocks == math.ceil(st.st_size / 512), path
        seen.add(os.path.basename(path) if "/profiles/" not in path else "profile")
    assert seen >= {"me.json", "workspaces.json", "custom-fields.json", "profile",
                    "profiles.ndjson", "profiles.csv", "list.json", ".status.json"}


def test_status_size_follows_its_content(mounted):
    fake, m = mounted()
    root = m.path / "prod2"
    status = root / ".status.json"
    before = fsutil.read(status)
    assert os.stat(status).st_size == len(before)
    os.listdir(root / "profiles")
    fsutil.read(root / "me.json")
    after = fsutil.read(status)
    assert after != before
    assert os.stat(status).st_size == len(after)
    json.loads(after)
    with open(status, "rb") as f:
        assert os.fstat(f.fileno()).st_size == len(f.read())


def test_times_are_the_apis_modified_times(mounted):
    fake, m = mounted()
    want = Expected(fake)
    root = m.path / "prod2"
    for pid, profile in want.profiles.items():
        st = os.stat(root / "profiles" / f"{pid}.json")
        assert st.st_mtime_ns == profile["modifiedTime"] * 10**6, pid
        assert st.st_ctime_ns == profile["modifiedTime"] * 10**6, pid
    for item in want.partner_lists:
        st = os.stat(root / "lists" / "partner" / str(item["id"]) / "list.json")
        assert st.st_mtime_ns == item["modifiedTimeMillis"] * 10**6
    for item in want.client_lists:
        st = os.stat(root / "lists" / "workspace" / str(item["clientId"])
                     / str(item["id"]) / "list.json")
        assert st.st_mtime_ns == item["modifiedTimeMillis"] * 10**6
    assert os.stat(root / "profiles").st_mtime_ns == want.newest() * 10**6


def test_millisecond_times_survive(mounted):
    fake, m = mounted()
    fake.put_profile("prod2", {"id": "odd_millis", "profiles": [],
                               "modifiedTime": 1700000000123}, keep_time=True)
    st = os.stat(m.path / "prod2" / "profiles" / "odd_millis.json")
    assert st.st_mtime_ns == 1700000000123 * 10**6
    assert st.st_mtime_ns % 10**9 == 123 * 10**6


def inodes_and_bytes(root):
    inodes, contents = {}, {}
    for path in walk(root):
        st = os.lstat(path)
        inodes[os.path.relpath(path, root)] = st.st_ino
        if stat.S_ISREG(st.st_mode) and not path.endswith(".status.json"):
            contents[os.path.relpath(path, root)] = fsutil.read(path)
    return inodes, contents


def test_inodes_and_bytes_stable_across_remount(mounted, mount):
    fake, m = mounted()
    first, first_bytes = inodes_and_bytes(m.path)
    assert len(set(first.values())) == len(first), "inode numbers must be unique"
    m.unmount()
    again = mount(name="again")
    second, second_bytes = inodes_and_bytes(again.path)
    assert second == first
    assert second_bytes == first_bytes


def test_profile_xattrs(mounted):
    fake, m = mounted("-o", "xattr")
    want = Expected(fake)
    profiles = m.path / "prod2" / "profiles"
    for pid, profile in list(want.profiles.items())[:50]:
        path = profiles / f"{pid}.json"
        assert {"user.sprinklr.id", "user.sprinklr.env",
                "user.sprinklr.modified"} <= set(os.listxattr(path))
        assert os.getxattr(path, "user.sprinklr.id") == pid.encode()
        assert os.getxattr(path, "user.sprinklr.env") == b"prod2"
        assert os.getxattr(path, "user.sprinklr.modified") == \
            str(profile["modifiedTime"]).encode()
        assert fsutil.errno_of(lambda: os.getxattr(path, "user.nothing")) == errno.ENODATA
    pid, profile = next(iter(want.profiles.items()))
    res = subprocess.run(["getfattr", "-d", "-m", "^user\\.sprinklr\\.",
                          str(profiles / f"{pid}.json")],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert f'user.sprinklr.id="{pid}"' in res.stdout.splitlines()
    assert 'user.sprinklr.env="prod2"' in res.stdout.splitlines()
    assert f'user.sprinklr.modified="{profile["modifiedTime"]}"' in res.stdout.splitlines()
    link = next((m.path / "prod2" / "channels").glob("*/*.json"))
    res = subprocess.run(["getfattr", "--only-values", "-n", "user.sprinklr.env",
                          str(link)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and res.stdout == "prod2"


WRITES = {
    "write": lambda p, d: open(p, "r+b").close(),
    "append": lambda p, d: open(p, "ab").close(),
    "truncate": lambda p, d: os.truncate(p, 0),
    "create": lambda p, d: open(d / "new.json", "xb").close(),
    "mknod": lambda p, d: os.mknod(d / "node"),
    "mkdir": lambda p, d: os.mkdir(d / "newdir"),
    "rmdir": lambda p, d: os.rmdir(d),
    "unlink": lambda p, d: os.unlink(p),
    "rename": lambda p, d: os.rename(p, d / "renamed.json"),
    "link": lambda p, d: os.link(p, d / "hard.json"),
    "symlink": lambda p, d: os.symlink("x", d / "sym.json"),
    "chmod": lambda p, d: os.chmod(p, 0o644),
    "chown": lambda p, d: os.chown(p, 1, 1),
    "utime": lambda p, d: os.utime(p, (0, 0)),
    "setxattr": lambda p, d: os.setxattr(p, "user.sprinklr.id", b"x"),
    "removexattr": lambda p, d: os.removexattr(p, "user.sprinklr.id"),
}


@pytest.mark.parametrize("op", sorted(WRITES))
def test_changes_fail_with_erofs(mounted, op):
    fake, m = mounted()
    root = m.path / "prod2"
    profiles = root / "profiles"
    pid = sorted(os.listdir(profiles))[0]
    targets = [(profiles / pid, profiles), (root / "me.json", root),
               (root / ".status.json", root), (root / "profiles.ndjson", root)]
    if op in ("rmdir",):
        targets = [(profiles, profiles), (root / "channels", root / "channels")]
    for path, directory in targets:
        assert fsutil.errno_of(lambda: WRITES[op](path, directory)) == errno.EROFS, path
    assert fsutil.same_json(fsutil.read(profiles / pid), fake.profile("prod2", pid[:-5]))


BAD_IDS = ["a.b", "..", ".", "x y", "a/b", "", "é", "a" * 201, "semi;colon",
           "new\nline", "nul\u0000byte", "-" * 199 + "."]
GOOD_IDS = ["a" * 200, "ok_id-1", "Z"]


def test_untrusted_ids_are_skipped(keyring, make_fake, mount):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    for n, pid in enumerate(BAD_IDS + GOOD_IDS):
        channel = {"channelType": "TWITTER", "channelId": f"90000000000000{n:04d}"}
        fake.put_profile("prod2", {
            "id": pid, "contact": {"fullName": "Odd Name"}, "profiles": [channel],
            "profileWorkflow": {"profileLists": [1], "customProperties": {},
                                "profileSpaceWorkflows": []},
            "createdTime": 1700000000000})
    util.login(fake, keyring.env)
    fake.reset_counters()
    m = mount()
    m.expect_log("skipping")
    root = m.path / "prod2"
    names = os.listdir(root / "profiles")
    assert len(names) == 250 + len(GOOD_IDS)
    for pid in GOOD_IDS:
        assert f"{pid}.json" in names
    fsutil.check_tree(root, Expected(fake))
    assert "skipping" in m.log()
    assert fsutil.errno_of(lambda: os.stat(root / "profiles" / "a.b.json")) == errno.ENOENT
    assert fsutil.errno_of(lambda: os.stat(root / "profiles" / "x y.json")) == errno.ENOENT
    assert fsutil.errno_of(lambda: os.stat(root / "profiles" / ("a" * 201 + ".json"))) \
        == errno.ENOENT
    assert fake.calls("prod2", "profile") == 0


def test_untrusted_channel_names_make_no_paths(keyring, make_fake, mount):
    fake = make_fake(profiles=10, **fsutil.UNLIMITED)
    odd = [("TWITTER", "../../profiles/x"), ("A/B", "1"), ("..", "2"), (".", "3"),
           ("TWITTER", ""), ("", "4"), ("TWITTER", "a" * 300), ("TWITTER", "..")]
    fake.put_profile("prod2", {
        "id": "odd_channels", "createdTime": 1700000000000,
        "profiles": [{"channelType": t, "channelId": c} for t, c in odd]})
    util.login(fake, keyring.env)
    m = mount()
    m.expect_log("skipping")
    root = m.path / "prod2"
    assert fsutil.same_json(fsutil.read(root / "profiles" / "odd_channels.json"),
                            fake.profile("prod2", "odd_channels"))
    for path in list(walk(root / "channels"))[1:]:
        rel = os.path.relpath(path, root / "channels")
        parts = rel.split("/")
        assert all(p not in ("", ".", "..") and len(p.encode()) <= 255 for p in parts), rel
        assert len(parts) <= 2, rel
        if len(parts) == 2:
            target = os.readlink(path)
            assert target.startswith("../../profiles/") and target.count("/") == 3, rel


ODD_VALUES = {
    "id": "odd_values",
    "unknownField": {"nested": [1, -2, 9007199254740991, -9007199254740991,
                                1234567890123457, 0],
                     "empty": {}, "none": [], "null": None, "yes": True, "no": False},
    "floats": [1.5, -0.25, 1e-07, 6.02214076e+23, 0.1],
    "text": "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u0007 end",
    "unicode": "Zoë Łukasz São Paulo µ ☕ 😀 \u2028 \ufeff",
    "createdTime": 1700000000000,
    "modifiedTime": 1700000000999,
}


def test_values_survive_rendering(keyring, make_fake, mount):
    fake = make_fake(profiles=5, **fsutil.UNLIMITED)
    fake.put_profile("prod2", ODD_VALUES, keep_time=True)
    util.login(fake, keyring.env)
    m = mount()
    root = m.path / "prod2"
    data = fsutil.read(root / "profiles" / "odd_values.json")
    assert data.endswith(b"\n")
    assert json.loads(data) == fake.profile("prod2", "odd_values") == ODD_VALUES
    assert list(json.loads(data)) == list(ODD_VALUES)
    assert b'"modifiedTime":\t1700000000999' in data
    data.decode("utf-8")
    line = next(line for line in fsutil.read(root / "profiles.ndjson").splitlines()
                if b'"odd_values"' in line)
    assert json.loads(line) == ODD_VALUES
    assert os.stat(root / "profiles" / "odd_values.json").st_size == len(data)


def test_nul_in_a_string_neither_cuts_nor_aliases(keyring, make_fake, mount):
    """cJSON strings end at NUL: a \u0000 may become U+FFFD, nothing worse."""
    fake = make_fake(profiles=5, **fsutil.UNLIMITED)
    for pid in ("nul_a", "nul_b"):
        fake.put_profile("prod2", {"id": pid, "note": f"{pid}\u0000tail", "after": 1})
    util.login(fake, keyring.env)
    m = mount()
    for pid in ("nul_a", "nul_b"):
        got = json.loads(fsutil.read(m.path / "prod2" / "profiles" / f"{pid}.json"))
        assert got["id"] == pid and got["after"] == 1
        assert got["note"] in (f"{pid}\u0000tail", f"{pid}\ufffdtail")
