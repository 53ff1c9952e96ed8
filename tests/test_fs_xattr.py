"""Extended attributes are opt-in (-o xattr): without the option the daemon
answers the kernel's first getxattr and listxattr with ENOSYS, the kernel
answers every later one by itself, and `ls -l` (two xattr lookups per file)
never reaches the daemon for them. Real mounts, libfuse's trace (-d) for
what reaches the daemon, exact call counts."""
import errno
import os
import subprocess

import util
from fsutil import calls_by_endpoint, errno_of, ls_l, requests_since

XATTR_REQUESTS = {"GETXATTR", "LISTXATTR"}


def test_without_the_option_xattrs_are_not_supported(mounted):
    fake, m = mounted()
    path = m.path / "prod2" / "profiles" / sorted(os.listdir(m.path / "prod2" / "profiles"))[0]
    assert errno_of(lambda: os.getxattr(path, "user.sprinklr.id")) == errno.ENOTSUP
    assert errno_of(lambda: os.listxattr(path)) == errno.ENOTSUP
    assert errno_of(lambda: os.getxattr(m.path / "prod2", "user.sprinklr.sync")) == \
        errno.ENOTSUP
    res = subprocess.run(["getfattr", "-d", "-m", "-", str(path)],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "Operation not supported" in res.stderr


def warm_ls_l_requests(mounted, options):
    """What reaches the daemon during a warm `ls -l` of profiles/ and
    channels/ (libfuse's trace); they cost no call."""
    fake, m = mounted("-d", "-o", "ttl=3600" + options)
    m.expect_log(r"debug: |error: -38 |error: -61 ")
    profiles = m.path / "prod2" / "profiles"
    assert len(ls_l(profiles)) == 250
    fake.reset_counters()
    mark = len(m.log())
    assert len(ls_l(profiles)) == 250
    assert len(ls_l(m.path / "prod2" / "channels")) > 0
    assert calls_by_endpoint(fake) == {}
    return requests_since(m, mark)


def test_without_the_option_ls_l_sends_no_xattr_request(mounted):
    assert XATTR_REQUESTS.isdisjoint(warm_ls_l_requests(mounted, ""))


def test_with_the_option_ls_l_asks_the_daemon_for_each_file(mounted):
    """What the option costs: ls -l asks for security.selinux and
    system.posix_acl_access of every file, each a request to the daemon."""
    assert warm_ls_l_requests(mounted, ",xattr").count("GETXATTR") >= 250


def test_sync_command_works_without_the_option(mounted, keyring):
    fake, m = mounted()
    res = util.run([util.binary(), "sync", m.path / "prod2"], keyring.env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "prod2: synced, 250 profiles\n"
    res = util.run([util.binary(), "sync", m.path / "prod2" / "profiles"], keyring.env)
    assert res.returncode == 1
    assert "is not an environment directory of a sprinklrfs mount" in res.stderr
