"""`meson install --destdir`: every file in its place under the prefix with
its mode and nothing else, nothing written outside DESTDIR, the installed
programs run, bash-completion finds the completion, and the installed systemd
user units pass `systemd-analyze verify`.

The build directory is the one the other tests use (SPRINKLRFS_BUILD, default
./build), installed with --no-rebuild: tests never build.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import fsutil
import util

UNITS = ("sprinklrfs@.service", "sprinklrfs-snapshot@.service",
         "sprinklrfs-snapshot@.timer")
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
# How systemd and dash look a bare command up.
STDPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def introspect(what):
    res = subprocess.run(["meson", "introspect", what, str(util.build_dir())],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


class Installed:
    """A DESTDIR install of the build and where its files must be."""

    def __init__(self, destdir, started, output):
        options = {o["name"]: o["value"] for o in introspect("--buildoptions")}
        self.destdir = destdir
        self.started = started
        self.output = output
        self.prefix = Path(options["prefix"])
        self.version = introspect("--projectinfo")["version"]
        # PREFIX/... paths (an absolute bindir, datadir or mandir wins)
        self.bindir = self.prefix / options["bindir"]
        self.mandir = self.prefix / options["mandir"]
        self.completionsdir = (self.prefix / options["datadir"] /
                               "bash-completion" / "completions")
        self.unitdir = self.prefix / "lib" / "systemd" / "user"

    def at(self, path):
        """Where the file that belongs at path is in DESTDIR."""
        return self.destdir / Path(path).relative_to("/")

    def expected(self):
        """{path: mode} of every file the install must make, nothing else."""
        want = {self.bindir / "sprinklrfs": 0o755,
                self.bindir / "sprinklrfs-snapshot": 0o755,
                self.completionsdir / "sprinklrfs": 0o644}
        for unit in UNITS:
            want[self.unitdir / unit] = 0o644
        # The man page is built only when scdoc is there (CI installs it).
        if shutil.which("scdoc"):
            want[self.mandir / "man1" / "sprinklrfs.1"] = 0o644
        return want


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    destdir = tmp_path_factory.mktemp("destdir")
    environ = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
    started = time.time()
    res = subprocess.run(["meson", "install", "-C", str(util.build_dir()),
                          "--destdir", str(destdir), "--no-rebuild"],
                         env=environ, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return Installed(destdir, started, res.stdout + res.stderr)


def files_under(root):
    return {path for path in root.rglob("*") if not path.is_dir()}


def test_every_file_is_in_place_with_its_mode(installed):
    want = {installed.at(path): mode for path, mode in installed.expected().items()}
    got = {path: path.lstat().st_mode & 0o7777
           for path in files_under(installed.destdir)}
    assert got == want


def test_nothing_is_written_outside_destdir(installed):
    log = util.build_dir() / "meson-logs" / "install-log.txt"
    logged = [Path(line) for line in log.read_text().splitlines()
              if line and not line.startswith("#")]
    assert logged
    outside = [p for p in logged if not p.is_relative_to(installed.destdir)]
    assert not outside
    # meson made every file there is in DESTDIR, and ran no install script
    # (the log leaves out what scripts install)
    assert {p for p in logged if not p.is_dir()} == files_under(installed.destdir)
    assert "install script" not in installed.output
    # and touched none of those paths on this machine
    for path in logged:
        real = Path("/") / path.relative_to(installed.destdir)
        if real.exists() and not real.is_dir():
            st = real.lstat()
            assert max(st.st_mtime, st.st_ctime) < installed.started, real


def test_installed_programs_run(installed):
    res = util.run([str(installed.at(installed.bindir / "sprinklrfs")),
                    "--version"], dict(os.environ))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == f"sprinklrfs version {installed.version}"
    res = util.run([str(installed.at(installed.bindir / "sprinklrfs-snapshot")),
                    "--help"], dict(os.environ))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: sprinklrfs-snapshot ")


@pytest.mark.skipif(not shutil.which("scdoc"),
                    reason="scdoc is not installed: no man page is built")
def test_man_page_is_sprinklrfs_1(installed):
    page = installed.at(installed.mandir / "man1" / "sprinklrfs.1").read_text()
    assert re.search(r'^\.TH "?sprinklrfs"? "?1"?', page, re.M | re.I), page[:300]


def test_bash_completion_finds_the_completion(installed, tmp_path):
    """bash-completion's loader, searching XDG_DATA_DIRS as it does
    /usr/local/share and /usr/share by default, completes `sprinklrfs au`."""
    script = f"""
        . {BASH_COMPLETION}
        __load_completion sprinklrfs || exit 3
        spec=$(complete -p sprinklrfs) || exit 4
        func=${{spec##*-F }}; func=${{func%% *}}
        COMP_WORDS=(sprinklrfs au); COMP_CWORD=1
        COMP_LINE="sprinklrfs au"; COMP_POINT=${{#COMP_LINE}}
        "$func" sprinklrfs au sprinklrfs
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    environ = {"PATH": STDPATH, "HOME": str(tmp_path), "LANG": "C.UTF-8",
               "XDG_DATA_HOME": str(tmp_path / "data"),
               "XDG_DATA_DIRS": str(installed.at(installed.completionsdir.parent.parent))}
    # cwd: a directory argument must not complete to the source tree's auth/
    res = subprocess.run(["bash", "-c", script], env=environ, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["auth"], res.stdout


def test_units_run_the_installed_programs(installed):
    unit = installed.at(installed.unitdir / "sprinklrfs@.service").read_text()
    assert f"\nExecStart={installed.bindir}/sprinklrfs -f %f " in unit
    for name in UNITS:
        text = installed.at(installed.unitdir / name).read_text()
        assert not re.search(r"@[A-Za-z_]+@", text), name


def overlay_target(prefix):
    """The directory the install is laid over: the prefix, or its nearest
    ancestor that exists here."""
    target = prefix
    while not target.exists():
        target = target.parent
    assert target != Path("/"), f"no directory of {prefix} exists here"
    return target


def installed_view(installed, args, before=""):
    """A command that runs args in a mount namespace of its own where
    DESTDIR's files are at their installed paths (DESTDIR laid over the
    prefix with overlayfs) and everything else is this machine's; the shell
    commands before run first, in that namespace."""
    target = overlay_target(installed.prefix)
    lower = f"{installed.at(target)}:{target}"
    script = ('mount -t overlay sprinklrfs-destdir -o "lowerdir=$1" "$2" && '
              f'shift 2 && {before} exec "$@"')
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace[1:1] = ["--map-root-user"]
    return [*namespace, "sh", "-c", script, "sh", lower, str(target), *args]


@pytest.mark.parametrize("unit", UNITS)
def test_installed_unit_verifies(installed, unit, tmp_path):
    """`systemd-analyze --user verify` of the installed unit where it is
    installed, with the programs it runs in place. Man pages are checked by
    test_every_file_is_in_place_with_its_mode (`man` may be missing)."""
    if not (util.ROOT / "contrib" / "systemd" / unit).exists():
        pytest.skip(f"contrib/systemd/{unit} is not in the tree")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    environ = {"PATH": STDPATH, "HOME": str(tmp_path), "LANG": "C.UTF-8",
               "XDG_RUNTIME_DIR": str(runtime)}
    res = subprocess.run(installed_view(installed, [
        "systemd-analyze", "--user", "--man=no", "verify",
        str(installed.unitdir / unit)]), env=environ, capture_output=True,
        text=True, timeout=120)
    said = res.stdout + res.stderr
    assert res.returncode == 0 and said == "", said


class UserManager:
    """`systemd --user` of its own, on the keyring's D-Bus session, in an
    installed view (see installed_view) with a /run of its own in which
    /run/systemd/system says that systemd is running: the manager runs
    where PID 1 is not systemd, and a machine's own user manager, if any,
    is never involved. Socket units are masked, so that dbus.socket and
    gnome-keyring-daemon.socket do not take the bus and the keyring from the
    keyring fixture, and only an empty target is started."""

    def __init__(self, installed, environ, log):
        self.env = dict(environ, PATH=STDPATH)
        config = Path(self.env["XDG_CONFIG_HOME"]) / "systemd" / "user"
        config.mkdir(parents=True)
        for unitdir in ("/etc/systemd/user", "/usr/lib/systemd/user",
                        "/usr/local/lib/systemd/user"):
            for socket in Path(unitdir).glob("*.socket"):
                (config / socket.name).symlink_to("/dev/null")
        (config / "sprinklrfs-test.target").write_text("[Unit]\nDescription=Tests\n")
        self.config = config
        self.proc = subprocess.Popen(
            installed_view(installed, [
                "/usr/lib/systemd/systemd", "--user", "--unit=sprinklrfs-test.target",
                "--log-target=console"],
                before="mount -t tmpfs sprinklrfs-run /run && "
                       "mkdir -p /run/systemd/system &&"),
            env=self.env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
        try:
            util.wait_for(lambda: self.systemctl("is-system-running").stdout.strip()
                          in ("running", "degraded") or self.proc.poll() is not None,
                          timeout=30, interval=0.1, what="the user manager")
        except TimeoutError:
            self.stop()
            raise
        assert self.proc.poll() is None, "systemd --user exited"

    def run(self, *args):
        """Run args in the manager's namespace (util.run)."""
        return util.run(["nsenter", f"--target={self.proc.pid}", "--mount", "--",
                         *args], self.env)

    def systemctl(self, *args):
        return self.run("systemctl", "--user", *args)

    def main_pid(self, unit):
        return int(self.systemctl("show", "-P", "MainPID", unit).stdout.strip() or 0)

    def mountinfo(self):
        return Path(f"/proc/{self.proc.pid}/mountinfo").read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def mounts_at(mountinfo, path):
    """How many mounts a mountinfo text has at path."""
    escaped = str(path).replace("\\", "\\134").replace(" ", "\\040")
    return sum(line.split()[4] == escaped for line in mountinfo.splitlines())


def profile_count(root):
    try:
        return len(os.listdir(root / "prod2" / "profiles"))
    except OSError:
        return 0


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="a user manager in a mount namespace needs root")
def test_mount_unit_under_a_user_manager(installed, keyring, make_fake, tmp_path):
    """sprinklrfs@.service, as installed, run by systemd: the instance names
    the mount point (a space in it too), SPRINKLRFS_OPTIONS from a drop-in
    reach the daemon, reload is a full sync, a crashed daemon's dead mount
    is detached and the mount restarted, stop unmounts and the daemon exits
    0 (an ExecStopPost of the test's drop-in writes down how each run
    ended). The mount lives in the manager's namespace: it is reached
    through /proc/DAEMON/root."""
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mountpoint = tmp_path / "sprinklr mnt"
    escaped = subprocess.run(["systemd-escape", "--path", str(mountpoint)],
                             capture_output=True, text=True, check=True).stdout.strip()
    unit = f"sprinklrfs@{escaped}.service"
    log = tmp_path / "service.log"
    ended = tmp_path / "ended"
    with open(tmp_path / "manager.log", "w") as manager_log:
        manager = UserManager(installed, keyring.env, manager_log)
    dropin = manager.config / f"{unit}.d"
    dropin.mkdir()
    (dropin / "test.conf").write_text(
        '[Service]\nEnvironment="SPRINKLRFS_OPTIONS=-o env=prod2"\n'
        f"RestartSec=100ms\nStandardOutput=append:{log}\nStandardError=append:{log}\n"
        "ExecStopPost=sh -c 'echo \"$$SERVICE_RESULT $$EXIT_CODE $$EXIT_STATUS\" "
        f">>{ended}'\n")

    def serving(before=0):
        """The daemon's pid once its mount serves, if not before's."""
        pid = manager.main_pid(unit)
        root = Path(f"/proc/{pid}/root") / mountpoint.relative_to("/")
        return pid if pid not in (0, before) and profile_count(root) == 250 else 0

    try:
        res = manager.systemctl("start", unit)
        assert res.returncode == 0, res.stderr
        first = util.wait_for(serving, timeout=30, what="the unit's mount")
        assert fsutil.daemon_pids(mountpoint) == [first]
        cmdline = Path(f"/proc/{first}/cmdline").read_text().split("\0")
        assert cmdline[:5] == [str(installed.bindir / "sprinklrfs"), "-f",
                               str(mountpoint), "-o", "env=prod2"]

        fake.reset_counters()
        assert manager.systemctl("reload", unit).returncode == 0
        util.wait_for(lambda: fsutil.calls_by_endpoint(fake).get("search"),
                      timeout=30, what="the full sync of a reload")
        assert manager.main_pid(unit) == first

        os.kill(first, signal.SIGKILL)
        second = util.wait_for(lambda: serving(before=first), timeout=30,
                               what="the restarted mount")
        # the dead mount was detached: one mount is left
        assert mounts_at(manager.mountinfo(), mountpoint) == 1

        res = manager.systemctl("stop", unit)
        assert res.returncode == 0, res.stderr
        util.wait_for(lambda: fsutil.zombie(second), timeout=30,
                      what="the daemon to exit")
        assert manager.systemctl("is-active", unit).stdout.strip() == "inactive"
        assert mounts_at(manager.mountinfo(), mountpoint) == 0
        # the first run was killed; the second exited 0 when stopped
        endings = util.wait_for(lambda: ended.exists() and
                                len(ended.read_text().splitlines()) == 2 and
                                ended.read_text().splitlines(),
                                timeout=30, what="the ExecStopPost of the second run")
        assert endings == ["signal killed KILL", "success exited 0"]
        util.check_sanitizer(unit, log.read_text())
        bad = [line for line in log.read_text().splitlines()
               if util.UNEXPECTED.search(line)]
        assert not bad, bad
    finally:
        for pid in fsutil.daemon_pids(mountpoint):
            os.kill(pid, signal.SIGKILL)
        manager.run("umount", "-l", str(mountpoint))
        manager.stop()
