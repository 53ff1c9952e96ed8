"""Ways to mount: in the background, through mount.fuse3 as /etc/fstab does,
with fstab words among the options, and with env= choosing environments."""
import os
import subprocess

import pytest

import fsutil
import util
from fsutil import Expected, calls_by_endpoint, listing_calls


def check_mounted(mountpoint, fake):
    """The mount serves prod2 like a foreground mount does."""
    root = mountpoint / "prod2"
    assert os.listdir(mountpoint) == ["prod2"]
    fake.reset_counters()
    names = os.listdir(root / "profiles")
    assert len(names) == 250
    assert calls_by_endpoint(fake) == listing_calls(250)
    pid = sorted(names)[0][:-len(".json")]
    assert fsutil.same_json(fsutil.read(root / "profiles" / f"{pid}.json"),
                            fake.profile("prod2", pid))
    assert os.getxattr(root / "profiles" / f"{pid}.json", "user.sprinklr.id") == pid.encode()


def run_background(args, environ, mountpoint):
    """Run a mount command that daemonizes; returns the daemon's pids."""
    mountpoint.mkdir()
    res = subprocess.run(args, env=environ, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, (res.stdout, res.stderr)
    util.wait_for(lambda: os.path.ismount(mountpoint), timeout=20,
                  what=f"mount at {mountpoint}")
    pids = fsutil.daemon_pids(mountpoint)
    assert pids, "no daemon process serves the mount"
    return pids, res


def test_background_mount_works_like_foreground(keyring, make_fake, tmp_path):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "bg"
    try:
        pids, res = run_background([util.binary(), str(mountpoint)], keyring.env,
                                   mountpoint)
        assert res.stdout == "" and res.stderr == ""
        check_mounted(mountpoint, fake)
        fsutil.check_tree(mountpoint / "prod2", Expected(fake))
        fsutil.unmount_background(mountpoint)
        assert not os.path.ismount(mountpoint)
    finally:
        fsutil.force_unmount(mountpoint)


@pytest.mark.parametrize("command", [
    ["sprinklrfs", "{mnt}", "-o", "noauto,user,_netdev,env=prod2"],
    ["anyword", "{mnt}", "-t", "fuse.sprinklrfs", "-o", "noauto,user,_netdev,nofail,env=prod2"],
    ["sprinklrfs#sandbox", "{mnt}", "-o", "users,auto,defaults,env=prod2"],
], ids=["type-as-source", "dash-t", "type-hash-source"])
def test_fstab_mount_through_mount_fuse3(keyring, make_fake, tmp_path, command):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "fstab"
    environ = dict(keyring.env)
    environ["PATH"] = f"{util.build_dir()}:{environ.get('PATH', os.defpath)}"
    args = ["mount.fuse3"] + [a.replace("{mnt}", str(mountpoint)) for a in command]
    try:
        run_background(args, environ, mountpoint)
        check_mounted(mountpoint, fake)
        fsutil.unmount_background(mountpoint)
    finally:
        fsutil.force_unmount(mountpoint)


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
