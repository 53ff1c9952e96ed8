"""No blank mount: when nothing can be served, `sprinklrfs MOUNTPOINT` fails
before daemonizing (exit 1, the reason and the way out, nothing mounted),
as it does over a sprinklrfs mount; the root's times are the mount's start;
a key Sprinklr does not know yet is explained at login and in the log."""
import errno
import os
import re
import time

import pytest

import fsutil
import util

INACTIVE = ("HTTP 403: Developer Inactive; a newly created application's key "
            "becomes active only about 30 minutes after it is created")
# in the background and in the foreground alike
MODES = pytest.mark.parametrize("flags", [[], ["-f"]], ids=["background", "foreground"])


def mounts_at(path):
    """How many mounts /proc/self/mountinfo lists at path."""
    with open("/proc/self/mountinfo") as f:
        return sum(line.split()[4] == str(path.resolve()) for line in f)


def refused(env, mountpoint, flags, *options):
    """Runs sprinklrfs on mountpoint; it must exit 1, mounting nothing;
    returns its stderr."""
    mountpoint.mkdir(exist_ok=True)
    before = mounts_at(mountpoint)
    res = util.run([util.binary(), *flags, mountpoint, *options], env, timeout=60)
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert mounts_at(mountpoint) == before
    return res.stderr


@MODES
def test_no_secret_service(env, tmp_path, flags):
    err = refused(env, tmp_path / "mnt", flags)
    assert err == (
        "sprinklrfs: error: cannot list the stored environments, so there is "
        "nothing to mount: no Secret Service is reachable: start a keyring "
        "daemon in your session (e.g. gnome-keyring-daemon --start "
        "--components=secrets), or use --store=file on a headless server (a "
        "mount finds credentials kept in files with -o store=file)\n")


@MODES
def test_no_environment_logged_in(keyring, tmp_path, flags):
    err = refused(keyring.env, tmp_path / "mnt", flags)
    assert err == (
        "sprinklrfs: error: no environment is logged in (the keyring store "
        "holds no credentials), so there is nothing to mount; run: sprinklrfs "
        "auth login ENV --key KEY\n")


def test_no_environment_in_the_file_store(env, tmp_path):
    err = refused(env, tmp_path / "mnt", [], "-o", "store=file")
    assert err == (
        "sprinklrfs: error: no environment is logged in (the file store holds "
        "no credentials), so there is nothing to mount; run: sprinklrfs auth "
        "login ENV --key KEY --store file\n")


@MODES
def test_named_environment_without_credentials(env, tmp_path, flags):
    util.store_credentials(env, "prod2")
    err = refused(env, tmp_path / "mnt", flags, "-o", "store=file,env=prod2:qa4")
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == [
        "sprinklrfs: error: qa4: not logged in (no credentials in the file "
        "store), so it cannot be mounted; run: sprinklrfs auth login qa4 "
        "--key KEY --store file"]


def test_named_environment_in_an_unreachable_keyring(env, tmp_path):
    err = refused(env, tmp_path / "mnt", ["-f"], "-o", "env=prod2")
    assert err.startswith("sprinklrfs: error: prod2: cannot read its "
                          "credentials: no Secret Service is reachable")


@MODES
def test_mount_over_a_sprinklrfs_mount(env, mount, flags):
    util.store_credentials(env)
    m = mount("-o", "store=file")
    path = m.path.resolve()
    err = refused(env, m.path, flags, "-o", "store=file")
    assert err == (f"sprinklrfs: error: sprinklrfs is mounted on {path} "
                   "already; to mount it again, unmount it first: "
                   f"fusermount3 -u {path}\n")
    assert mounts_at(path) == 1
    assert os.listdir(m.path) == ["prod2"]


def test_root_times_are_the_mount_start(env, mount):
    util.store_credentials(env)
    before = time.time_ns()
    m = mount("-o", "store=file")
    after = time.time_ns()
    st = os.stat(m.path)
    assert st.st_atime_ns == st.st_mtime_ns == st.st_ctime_ns
    # the wall clock at the start, in milliseconds
    assert before // 10**6 * 10**6 <= st.st_mtime_ns <= after


@pytest.mark.parametrize("endpoint, said", [
    ("me", "prod2: the new tokens do not work: GET /api/v2/me answered " + INACTIVE),
    ("token", "prod2: Sprinklr rejected the authorization (the token endpoint "
              "answered " + INACTIVE + "); check the key, secret and redirect "
              "URI, and log in again"),
])
def test_developer_inactive_at_login(env, fake, endpoint, said):
    fake.fault("status", 1, env="prod2", endpoint=endpoint, status=403,
               body="Developer Inactive")
    flow = util.Login(fake, env, extra=["--store", "file"])
    assert flow.visit(flow.authorize())[0] == 200
    code, out, err = flow.finish()
    assert code == 1
    assert err.splitlines()[-1] == "sprinklrfs: error: " + said
    assert util.auth(env, "list", "--store", "file").stdout == ""


def test_developer_inactive_in_the_mount_log(env, make_fake, mount):
    fake = make_fake(profiles=5, **fsutil.UNLIMITED)
    util.login(fake, env, extra=["--store", "file"])
    m = mount("-o", "store=file")
    line = ("sprinklrfs: error: prod2: the API refused the application key (" +
            INACTIVE + "); check the key and environment, then run: "
            "sprinklrfs auth login prod2")
    m.expect_log("credentials are kept in a file")
    m.expect_log("^" + re.escape(line) + "$")
    fsutil.enter(fake, m)
    fake.fault("status", 100000, env="prod2", endpoint="me", status=403,
               body="Developer Inactive")
    me = m.path / "prod2" / "me.json"
    assert fsutil.errno_of(lambda: fsutil.read(me)) == errno.EACCES
    assert fsutil.api_calls(fake) == 1
    assert fake.calls("prod2", "token") == 0
    fsutil.wait_log(m, "^" + re.escape(line) + "$")
