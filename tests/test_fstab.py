"""The README's /etc/fstab line, used the way mount(8) uses it: mount.fuse3
called as mount(8) calls it, and, as root, `mount MOUNTPOINT` itself on a
temporary fstab holding the line (`mount -T FSTAB`).

mount(8) runs its helper without PATH (and without HOME), so mount.fuse3's
shell finds `sprinklrfs` only in the standard directories (/usr/local/bin,
/usr/bin, ...): the mount(8) tests lay the build's binary into /usr/local/bin
in a mount namespace of their own, where the whole mount then lives; the
test reaches it through /proc/DAEMON/root.
"""
import contextlib
import errno
import os
import re
from pathlib import Path

import pytest

import fsutil
import util

FSTAB_LINE = re.compile(r"^(\S+)\s+(/\S+)\s+(fuse\.sprinklrfs)\s+(\S+)\s+0\s+0$",
                        re.MULTILINE)
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="mount --fstab and mount namespaces need root")


def readme_fstab():
    """(source, type, options) of the first fstab line in README.md."""
    match = FSTAB_LINE.search((util.ROOT / "README.md").read_text())
    assert match, "README.md has no fstab line of type fuse.sprinklrfs"
    source, _, fstype, options = match.groups()
    return source, fstype, options


def login(keyring, make_fake):
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    return fake


def mount_entry(mountinfo, mountpoint):
    """(type, source, mount options) of mountpoint in a mountinfo text."""
    found = []
    for line in mountinfo.splitlines():
        fields, _, rest = line.partition(" - ")
        fields = fields.split()
        if fields[4] == str(mountpoint):
            fstype, source = rest.split()[:2]
            found.append((fstype, source, set(fields[5].split(","))))
    assert len(found) == 1, found
    return found[0]


def check_serves(root, fake, mountinfo, mountpoint):
    """root (the mount as this process sees it) serves prod2 of fake, and
    the mount table names it as the fstab line does."""
    source, fstype, _ = readme_fstab()
    assert os.listdir(root) == ["prod2"]
    names = sorted(os.listdir(root / "prod2" / "profiles"))
    assert len(names) == 250
    pid = names[0][:-len(".json")]
    assert fsutil.same_json(fsutil.read(root / "prod2" / "profiles" / names[0]),
                            fake.profile("prod2", pid))
    assert mount_entry(mountinfo, mountpoint)[:2] == (fstype, source)


def check_read_only(root, mountinfo, mountpoint):
    """Read-only for the kernel, so that writing fails with EROFS."""
    assert "ro" in mount_entry(mountinfo, mountpoint)[2]
    assert fsutil.errno_of(lambda: open(root / "prod2" / "new.json", "x")) == errno.EROFS


def test_readme_line_through_mount_fuse3(keyring, make_fake, tmp_path):
    """`mount.fuse3 SOURCE MOUNTPOINT -o OPTIONS -t TYPE` with the build
    directory on PATH: mounts in the background."""
    fake = login(keyring, make_fake)
    source, fstype, options = readme_fstab()
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    environ = dict(keyring.env)
    environ["PATH"] = f"{util.build_dir()}:{environ.get('PATH', os.defpath)}"
    started = util.Background(["mount.fuse3", source, mountpoint, "-o", options,
                               "-t", fstype], environ, tmp_path)
    try:
        assert (started.returncode, started.stdout, started.stderr) == (0, "", "")
        util.wait_for(lambda: os.path.ismount(mountpoint), timeout=20,
                      what=f"mount at {mountpoint}")
        assert fsutil.daemon_pids(mountpoint), "no daemon serves the mount"
        mountinfo = Path("/proc/self/mountinfo").read_text()
        check_serves(mountpoint, fake, mountinfo, mountpoint)
        check_read_only(mountpoint, mountinfo, mountpoint)
        started.unmount(mountpoint)
        assert not os.path.ismount(mountpoint)
    finally:
        fsutil.force_unmount(mountpoint)
        started.kill()


def in_namespace(pid, *args):
    """Run args in the mount namespace of process pid (util.run)."""
    return util.run(["nsenter", f"--target={pid}", "--mount", "--", *args],
                    timeout=30)


@contextlib.contextmanager
def fstab_mount(keyring, tmp_path):
    """`mount -T FSTAB MOUNTPOINT` with the README's line, in a mount
    namespace where /usr/local/bin holds the build's sprinklrfs, run as a
    util.Background; yields the mount as seen from here, the namespace's
    mountinfo, the mount point, the daemon's pids and the Background. The
    caller unmounts and finishes it; whatever is left is unmounted lazily."""
    source, fstype, options = readme_fstab()
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    fstab = tmp_path / "fstab"
    fstab.write_text(f"{source}  {mountpoint}  {fstype}  {options}  0 0\n")
    installed = tmp_path / "bin"
    installed.mkdir()
    (installed / "sprinklrfs").symlink_to(util.binary())
    script = ('mount -t overlay sprinklrfs-bin -o "lowerdir=$1:/usr/local/bin" '
              '/usr/local/bin && exec mount -T "$2" "$3"')
    started = util.Background(["unshare", "--mount", "--propagation", "private",
                               "sh", "-c", script, "sh", installed, fstab,
                               mountpoint], keyring.env, tmp_path)
    pids = fsutil.daemon_pids(mountpoint)
    try:
        assert (started.returncode, started.stdout, started.stderr) == (0, "", "")
        assert len(pids) == 1, pids
        # the namespace lives as long as the daemon
        root = Path(f"/proc/{pids[0]}/root") / mountpoint.relative_to("/")
        mountinfo = Path(f"/proc/{pids[0]}/mountinfo").read_text()
        yield root, mountinfo, mountpoint, pids, started
    finally:
        for pid in pids:
            if not fsutil.zombie(pid):
                in_namespace(pid, "umount", "-l", str(mountpoint))
        started.kill()


@needs_root
def test_readme_line_with_mount_and_a_temporary_fstab(keyring, make_fake, tmp_path):
    """`mount -T FSTAB MOUNTPOINT`, then `umount MOUNTPOINT`: the daemon
    exits 0."""
    fake = login(keyring, make_fake)
    with fstab_mount(keyring, tmp_path) as (root, mountinfo, mountpoint, pids,
                                            started):
        check_serves(root, fake, mountinfo, mountpoint)
        res = in_namespace(pids[0], "umount", str(mountpoint))
        assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
        assert set(started.finish()) == set(pids)


@needs_root
def test_mount_from_fstab_is_read_only(keyring, make_fake, tmp_path):
    """mount(8) passes "rw" among the options; the mount is read-only all
    the same."""
    login(keyring, make_fake)
    with fstab_mount(keyring, tmp_path) as (root, mountinfo, mountpoint, pids,
                                            started):
        check_read_only(root, mountinfo, mountpoint)
        res = in_namespace(pids[0], "umount", str(mountpoint))
        assert res.returncode == 0, res.stderr
        started.finish()
