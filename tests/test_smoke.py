"""The binary starts, mounts, serves the root directory and unmounts cleanly."""
import errno
import os
import stat

import pytest

import util


def test_version(env):
    res = util.run([util.binary(), "--version"], env)
    assert res.returncode == 0
    assert res.stdout.startswith("sprinklrfs version ")
    assert "FUSE library version 3." in res.stdout


def test_help(env):
    res = util.run([util.binary(), "--help"], env)
    assert res.returncode == 0
    assert "usage: " in res.stdout and "MOUNTPOINT" in res.stdout
    assert "-f " in res.stdout


def test_no_mountpoint_is_a_usage_error(env):
    res = util.run([util.binary()], env)
    assert res.returncode == 1
    assert "no mount point given" in res.stderr


def test_missing_mountpoint_fails_clearly(env, tmp_path):
    res = util.run([util.binary(), "-f", str(tmp_path / "absent")], env)
    assert res.returncode == 1
    assert "bad mount point" in res.stderr and "absent" in res.stderr


def offline(env, mount):
    """A mount of prod2 from the file store, with no API behind it: mounting
    and the root cost no call."""
    util.store_credentials(env)
    return mount("-o", "store=file")


def test_mount_reads_root(env, mount):
    m = offline(env, mount)
    assert os.listdir(m.path) == ["prod2"]
    st = os.stat(m.path)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o555
    assert st.st_uid == os.getuid() and st.st_gid == os.getgid()
    assert st.st_ino == 1


def test_mount_is_read_only(env, mount):
    m = offline(env, mount)
    with pytest.raises(OSError) as err:
        (m.path / "new-file").write_text("x")
    assert err.value.errno == errno.EROFS


def test_killed_daemon_leaves_no_mount(env, mount):
    m = offline(env, mount)
    m.kill()
    assert not os.path.ismount(m.path)
