"""contrib/sprinklr-snapshot (installed as sprinklrfs-snapshot) against real
mounts of the fake: dated snapshots hard-linked against the previous one,
failures that keep the previous snapshot, locking, retention, and the
systemd user units that run it."""
import errno
import fcntl
import os
import shutil
import subprocess

import pytest

import fsutil
import util
from fsutil import Expected

SCRIPT = util.ROOT / "contrib" / "sprinklr-snapshot"
UNITS = util.ROOT / "contrib" / "systemd"
ME = "sprinklrfs-snapshot"


def snapshot(keyring, src, dest, *options, date="2024-03-04"):
    """Run the script on src into dest with the snapshot dated date."""
    environ = dict(keyring.env, SPRINKLRFS_SNAPSHOT_DATE=date)
    return util.run([str(SCRIPT), "--sprinklrfs", util.binary(), *options,
                     str(src), str(dest)], environ, timeout=120)


def made(keyring, src, dest, *options, date="2024-03-04"):
    res = snapshot(keyring, src, dest, *options, date=date)
    assert res.returncode == 0, res.stderr
    assert (res.stdout, res.stderr) == ("", "")
    return dest / date


def synced(keyring, fake, src, pid):
    """`sprinklrfs sync` after fake.touch: the mount shows pid's new time."""
    res = util.run([util.binary(), "sync", src], keyring.env)
    assert res.returncode == 0, res.stderr
    want = fake.profile("prod2", pid)["modifiedTime"] * 10**6
    util.wait_for(lambda: os.stat(profile(src, pid)).st_mtime_ns == want,
                  timeout=20, what="the mount to show the changed profile")


def profile(root, pid):
    return root / "profiles" / f"{pid}.json"


def listing(dest):
    """The names in dest, dot-names included."""
    return sorted(os.listdir(dest))


def test_snapshot_is_the_tree_and_the_next_one_hard_links_what_did_not_change(
        mounted, keyring, tmp_path):
    fake, m = mounted()
    src = m.path / "prod2"
    dest = tmp_path / "snapshots"
    first = made(keyring, src, dest, date="2024-03-04")
    fsutil.check_tree(first, Expected(fake))
    assert not (first / ".status.json").exists()
    assert listing(dest) == [".lock", "2024-03-04", "latest"]
    assert os.readlink(dest / "latest") == "2024-03-04"

    (changed,) = fake.touch("prod2", count=1)
    synced(keyring, fake, src, changed)
    second = made(keyring, src, dest, date="2024-03-05")
    expected = Expected(fake)
    fsutil.check_tree(second, expected)
    assert listing(dest) == [".lock", "2024-03-04", "2024-03-05", "latest"]
    assert os.readlink(dest / "latest") == "2024-03-05"

    old, new = os.stat(profile(first, changed)), os.stat(profile(second, changed))
    assert old.st_ino != new.st_ino and (old.st_nlink, new.st_nlink) == (1, 1)
    assert fsutil.same_json(fsutil.read(profile(second, changed)),
                            fake.profile("prod2", changed))
    assert not fsutil.same_json(fsutil.read(profile(first, changed)),
                                fake.profile("prod2", changed))
    linked = 0
    for pid in expected.profiles:
        if pid == changed:
            continue
        a, b = os.stat(profile(first, pid)), os.stat(profile(second, pid))
        assert (a.st_ino, a.st_nlink) == (b.st_ino, 2), pid
        linked += 1
    assert linked == len(expected.profiles) - 1 == 249
    assert os.stat(first / "profiles.ndjson").st_ino != \
        os.stat(second / "profiles.ndjson").st_ino


def test_a_second_run_the_same_day_replaces_that_days_snapshot(
        mounted, keyring, tmp_path):
    fake, m = mounted(profiles=40)
    src = m.path / "prod2"
    dest = tmp_path / "snapshots"
    day = made(keyring, src, dest, date="2024-03-04")
    before = os.stat(day).st_ino
    (changed,) = fake.touch("prod2", count=1)
    synced(keyring, fake, src, changed)
    assert made(keyring, src, dest, date="2024-03-04") == day
    assert os.stat(day).st_ino != before
    assert listing(dest) == [".lock", "2024-03-04", "latest"]
    assert os.readlink(dest / "latest") == "2024-03-04"
    fsutil.check_tree(day, Expected(fake))
    assert fsutil.same_json(fsutil.read(profile(day, changed)),
                            fake.profile("prod2", changed))


def test_a_failed_copy_keeps_the_previous_snapshot_and_latest(
        mounted, keyring, mount, tmp_path):
    fake, m = mounted(profiles=40)
    dest = tmp_path / "snapshots"
    good = made(keyring, m.path / "prod2", dest, date="2024-03-04")
    kept = fsutil.scan(good)
    inodes = {p: os.lstat(good / p).st_ino for p in kept[0]}
    # A mount with a store of its own has no documents cached: me.json
    # needs a call, and every call to /me fails, so rsync meets EIO in the
    # middle of the tree.
    m.unmount()
    fake.fault("status", count=100000, env="prod2", endpoint="me", status=503)
    m = mount("-o", f"retries=0,cache_dir={tmp_path / 'cache'}", name="again")
    m.expect_log(r"\bprod2\b")
    src = m.path / "prod2"
    assert fsutil.errno_of(lambda: os.stat(src / "me.json")) == errno.EIO
    for date in ("2024-03-05", "2024-03-04"):        # a new day, the same day
        res = snapshot(keyring, src, dest, date=date)
        assert res.returncode == 1
        assert res.stderr.endswith(
            f"{ME}: rsync failed (exit 23); the previous snapshot is kept\n"), res.stderr
        assert "me.json" in res.stderr
        assert listing(dest) == [".lock", "2024-03-04", "latest"]
        assert os.readlink(dest / "latest") == "2024-03-04"
        assert fsutil.scan(good) == kept
        assert {p: os.lstat(good / p).st_ino for p in kept[0]} == inodes
    fake.clear_faults()
    fsutil.check_tree(good, Expected(fake))


def test_a_failure_before_any_snapshot_says_none_was_made(mounted, keyring, tmp_path):
    fake, m = mounted("-o", "retries=0", profiles=10)
    fake.fault("status", count=100000, env="prod2", endpoint="me", status=503)
    m.expect_log(r"\bprod2\b")
    dest = tmp_path / "snapshots"
    res = snapshot(keyring, m.path / "prod2", dest)
    assert res.returncode == 1
    assert res.stderr.endswith(f"{ME}: rsync failed (exit 23); no snapshot made\n")
    assert listing(dest) == [".lock"]


def test_refuses_what_is_not_an_environment(mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    plain = tmp_path / "plain"
    (plain / "profiles").mkdir(parents=True)
    dest = tmp_path / "snapshots"
    for src in (plain, m.path / "nosuchenv", tmp_path / "missing"):
        res = snapshot(keyring, src, dest)
        assert res.returncode == 1
        assert res.stderr == (f"{ME}: {src} is not a sprinklrfs environment "
                              "(MOUNTPOINT/ENV of a running mount)\n")
        assert not dest.exists()
    inner = m.path / "prod2" / "profiles"
    res = snapshot(keyring, inner, dest)
    assert res.returncode == 1
    assert "is not an environment directory of a sprinklrfs mount" in res.stderr
    assert res.stderr.endswith(
        f"{ME}: {inner}: sprinklrfs sync --wait failed (exit 1); no snapshot made\n")
    assert listing(dest) == [".lock"]


def test_usage_errors_exit_2(env, tmp_path):
    for args in ([], [str(tmp_path)], ["--keep-daily", "x", "a", "b"],
                 ["--keep-weekly"], ["--bogus", "a", "b"], ["a", "b", "c"]):
        res = util.run([str(SCRIPT), *args], env)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stderr.startswith(f"{ME}: ") and "--help" in res.stderr
    res = util.run([str(SCRIPT), "--help"], env)
    assert res.returncode == 0 and res.stdout.startswith(f"usage: {ME} ")


def test_a_second_run_on_the_same_dest_is_refused_while_one_runs(
        mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    dest = tmp_path / "snapshots"
    dest.mkdir()
    with open(dest / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = snapshot(keyring, m.path / "prod2", dest)
    assert res.returncode == 1
    assert res.stderr == (f"{ME}: another {ME} is running on {dest} "
                          f"(it holds {dest}/.lock)\n")
    assert listing(dest) == [".lock"]
    made(keyring, m.path / "prod2", dest)


def days(first, last):
    import datetime
    day = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    while day <= end:
        yield day.isoformat()
        day += datetime.timedelta(days=1)


def fill(dest):
    """Old snapshots every day of 2024-01-01..2024-03-10 except ISO week 9
    (2024-02-26..03-03), read-only like real ones, beside names that are
    not snapshots and must never be touched."""
    gap = set(days("2024-02-26", "2024-03-03"))
    names = [d for d in days("2024-01-01", "2024-03-10") if d not in gap]
    for name in names:
        (dest / name / "profiles").mkdir(parents=True)
        (dest / name / "profiles" / "x.json").write_text("{}\n")
        os.chmod(dest / name / "profiles" / "x.json", 0o444)
        os.chmod(dest / name / "profiles", 0o555)
        os.chmod(dest / name, 0o555)
    (dest / "notes").mkdir()
    (dest / "2024-02-30").mkdir()                 # not a date
    (dest / "2023-12-31").write_text("a file\n")  # not a directory
    os.symlink("2024-01-01", dest / "2023-12-30")  # not a directory either
    return names


OTHERS = [".lock", "2023-12-30", "2023-12-31", "2024-02-30", "latest", "notes"]


def test_retention_keeps_the_newest_days_and_then_one_per_week(
        mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    src = m.path / "prod2"
    dest = tmp_path / "snapshots"
    dest.mkdir()
    fill(dest)
    made(keyring, src, dest, "--keep-daily", "3", "--keep-weekly", "4",
         date="2024-03-11")
    # 2024-03-11 is a Monday (week 11). Daily: 03-11, 03-10, 03-09. Then the
    # newest of weeks 10 (03-04..03-10: 03-08), 9 (none), 8, 7 and 6 (Sundays).
    assert listing(dest) == sorted(OTHERS + [
        "2024-02-11", "2024-02-18", "2024-02-25", "2024-03-08", "2024-03-09",
        "2024-03-10", "2024-03-11"])
    assert os.readlink(dest / "latest") == "2024-03-11"
    assert (dest / "2023-12-31").read_text() == "a file\n"
    assert os.readlink(dest / "2023-12-30") == "2024-01-01"

    made(keyring, src, dest, "--keep-weekly", "1", date="2024-03-12")
    assert listing(dest) == sorted(OTHERS + ["2024-03-12"])


def test_retention_never_deletes_the_snapshot_just_made(mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    dest = tmp_path / "snapshots"
    dest.mkdir()
    fill(dest)
    made(keyring, m.path / "prod2", dest, "--keep-daily", "2",
         "--keep-weekly", "0", date="2024-02-28")
    assert listing(dest) == sorted(OTHERS + ["2024-02-28", "2024-03-09",
                                             "2024-03-10"])
    assert os.readlink(dest / "latest") == "2024-02-28"


def test_without_retention_options_nothing_is_deleted(mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    dest = tmp_path / "snapshots"
    dest.mkdir()
    names = fill(dest)
    made(keyring, m.path / "prod2", dest, date="2024-03-11")
    assert listing(dest) == sorted(OTHERS + names + ["2024-03-11"])


def test_leftovers_of_an_interrupted_run_are_removed(mounted, keyring, tmp_path):
    fake, m = mounted(profiles=10)
    dest = tmp_path / "snapshots"
    for name in (".partial-2024-03-03.Ab12Cd", ".deleting-2024-01-01.77",
                 ".replaced-2024-03-03.78"):
        (dest / name / "profiles").mkdir(parents=True)
        os.chmod(dest / name / "profiles", 0o555)
    os.symlink("2024-03-03", dest / ".latest.79")
    made(keyring, m.path / "prod2", dest)
    assert listing(dest) == [".lock", "2024-03-04", "latest"]


def unit_copies(tmp_path):
    """The two units in a directory of their own, the service's program
    named by its path in the source tree: `systemd-analyze verify` looks a
    bare ExecStart name up in /usr/local/bin, /usr/bin, ... where it is only
    once installed. Nothing else differs."""
    out = tmp_path / "units"
    out.mkdir()
    service = (UNITS / "sprinklrfs-snapshot@.service").read_text()
    bare = "\nExecStart=sprinklrfs-snapshot "
    assert service.count(bare) == 1
    (out / "sprinklrfs-snapshot@.service").write_text(
        service.replace(bare, f"\nExecStart={SCRIPT} "))
    shutil.copy(UNITS / "sprinklrfs-snapshot@.timer", out)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (apt package systemd)")
def test_systemd_units_verify(env, tmp_path):
    units = unit_copies(tmp_path)
    for args in ([units / "sprinklrfs-snapshot@.service",
                  units / "sprinklrfs-snapshot@.timer"],
                 [units / "sprinklrfs-snapshot@prod2.timer"]):
        res = subprocess.run(["systemd-analyze", "--user", "verify",
                              *map(str, args)],
                             env=env, capture_output=True, text=True, timeout=60)
        assert (res.returncode, res.stdout, res.stderr) == (0, "", ""), args

