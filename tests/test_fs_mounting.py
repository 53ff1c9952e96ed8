"""Ways to mount: in the background, through mount.fuse3 as /etc/fstab does,
with fstab words among the options, and with env= choosing environments."""
import errno
import os
import subprocess

import pytest

import fsutil
import util
from fsutil import Expected, calls_by_endpoint, listing_calls


def check_mounted(mountpoint, fake, xattr=False):
    """The mount serves prod2 like a foreground mount does (its xattrs with
    -o xattr only)."""
    root = mountpoint / "prod2"
    assert os.listdir(mountpoint) == ["prod2"]
    fake.reset_counters()
    names = os.listdir(root / "profiles")
    assert len(names) == 250
    assert calls_by_endpoint(fake) == listing_calls(250)
    pid = sorted(names)[0][:-len(".json")]
    assert fsutil.same_json(fsutil.read(root / "profiles" / f"{pid}.json"),
                            fake.profile("prod2", pid))
    path = root / "profiles" / f"{pid}.json"
    if xattr:
        assert os.getxattr(path, "user.sprinklr.id") == pid.encode()
    else:
        assert fsutil.errno_of(lambda: os.getxattr(path, "user.sprinklr.id")) == errno.ENOTSUP


def run_background(args, environ, mountpoint, workdir):
    """Run a mount command that daemonizes (a util.Background); returns it
    once its daemon serves the mount."""
    mountpoint.mkdir()
    started = util.Background(args, environ, workdir)
    try:
        assert started.returncode == 0, (started.stdout, started.stderr)
        util.wait_for(lambda: os.path.ismount(mountpoint), timeout=20,
                      what=f"mount at {mountpoint}")
        assert fsutil.daemon_pids(mountpoint), "no daemon process serves the mount"
    except BaseException:
        fsutil.force_unmount(mountpoint)
        started.kill()
        raise
    return started


def test_background_mount_works_like_foreground(keyring, make_fake, tmp_path):
    """The daemon it leaves exits 0 on fusermount3 -u, with no sanitizer
    report (its stderr is /dev/null: see util.Background)."""
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "bg"
    started = run_background([util.binary(), mountpoint], keyring.env, mountpoint,
                             tmp_path)
    try:
        assert started.stdout == "" and started.stderr == ""
        check_mounted(mountpoint, fake)
        fsutil.check_tree(mountpoint / "prod2", Expected(fake))
        started.unmount(mountpoint)
        assert not os.path.ismount(mountpoint)
    finally:
        fsutil.force_unmount(mountpoint)
        started.kill()


@pytest.mark.parametrize("command", [
    ["sprinklrfs", "{mnt}", "-o", "noauto,user,_netdev,env=prod2"],
    ["anyword", "{mnt}", "-t", "fuse.sprinklrfs", "-o", "noauto,user,_netdev,nofail,env=prod2"],
    ["sprinklrfs#sandbox", "{mnt}", "-o", "users,auto,defaults,env=prod2,xattr"],
], ids=["type-as-source", "dash-t", "type-hash-source"])
def test_fstab_mount_through_mount_fuse3(keyring, make_fake, tmp_path, command):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "fstab"
    environ = dict(keyring.env)
    environ["PATH"] = f"{util.build_dir()}:{environ.get('PATH', os.defpath)}"
    args = ["mount.fuse3"] + [a.replace("{mnt}", str(mountpoint)) for a in command]
    started = run_background(args, environ, mountpoint, tmp_path)
    try:
        check_mounted(mountpoint, fake, xattr="xattr" in command[-1])
        started.unmount(mountpoint)
    finally:
        fsutil.force_unmount(mountpoint)
        started.kill()


def test_fstab_words_are_accepted_and_ignored(mounted):
    fake, m = mounted("-o", "_netdev,auto,noauto,user,users,nofail,defaults,env=prod2")
    check_mounted(m.path, fake)


def test_source_word_before_the_mountpoint_is_ignored(keyring, make_fake, tmp_path):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "src"
    m = util.Mount(mountpoint, [], keyring.env, tmp_path / "src.log")
    m.path.mkdir()
    with open(m.log_path, "wb") as log:
        proc = subprocess.Popen([util.binary(), "sandbox", str(mountpoint), "-f"],
                                env=keyring.env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    m.proc = proc
    try:
        util.wait_for(lambda: os.path.ismount(mountpoint) or proc.poll() is not None,
                      timeout=20, what="the mount")
        assert os.path.ismount(mountpoint), m.log()
        check_mounted(mountpoint, fake)
        m.unmount()
    finally:
        m.kill()


def test_env_option_chooses_environments(mounted, mount):
    fake, m = mounted(names=("prod2", "qa4"))
    assert sorted(os.listdir(m.path)) == ["prod2", "qa4"]
    only = mount("-o", "env=qa4", name="only")
    assert os.listdir(only.path) == ["qa4"]
    both = mount("-o", "env=qa4:prod2", name="both")
    assert sorted(os.listdir(both.path)) == ["prod2", "qa4"]
    assert len(os.listdir(only.path / "qa4" / "profiles")) == 250
    assert fsutil.api_calls(fake, "prod2") == 0
