"""Fixtures shared by the integration tests.

- env: an isolated environment for child processes (throwaway HOME and XDG dirs)
- keyring: a private D-Bus session with gnome-keyring-daemon and a throwaway
  login keyring in that HOME: the real Secret Service, never a mock
- fake: the fake Sprinklr server on a free loopback port, with its own CA
- mount: a factory that mounts sprinklrfs in the foreground; on teardown it
  unmounts, requires exit status 0 and a clean log, and cleans up on failure
- mounted: a factory for the usual mounted environment: a fake without rate
  limits, logged in for every name, its counters reset, and a mount
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fsutil  # noqa: E402
import util  # noqa: E402

PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS", "UBSAN_OPTIONS",
               "LSAN_OPTIONS", "SPRINKLRFS_BUILD")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped test is a failed test, wherever the suite runs: nothing may
    silently not run. (Tests left out on purpose are deselected instead:
    -m, -k, --ignore.)"""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped, which counts as a failure: {report.longrepr}"


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    environ = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ}
    environ.setdefault("LANG", "C.UTF-8")
    environ.update({
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    })
    return environ


class Keyring:
    def __init__(self, env, bus_pid, daemon):
        self.env = env
        self.bus_pid = bus_pid
        self.daemon = daemon

    @property
    def directory(self):
        return Path(self.env["XDG_DATA_HOME"]) / "keyrings"

    def stop(self):
        if self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        try:
            os.kill(self.bus_pid, 15)
        except ProcessLookupError:
            pass


def start_keyring(environ):
    bus = Path(environ["XDG_RUNTIME_DIR"]) / "bus"
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", f"--address=unix:path={bus}",
         "--print-address=1", "--print-pid=1"],
        env=environ, capture_output=True, text=True, timeout=30, check=True)
    address, pid = out.stdout.split()[:2]
    environ["DBUS_SESSION_BUS_ADDRESS"] = address
    # A non-empty password: an empty one makes the daemon ask for a prompt.
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--login",
         "--components=secrets"],
        env=environ, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    keyring = Keyring(environ, int(pid), daemon)
    daemon.stdin.write(b"throwaway-keyring-password")
    daemon.stdin.close()
    # --start must find this daemon, not race it and start a second one.
    control = Path(environ["XDG_RUNTIME_DIR"]) / "keyring" / "control"
    try:
        util.wait_for(lambda: control.exists() or daemon.poll() is not None,
                      timeout=20, what="gnome-keyring-daemon's control socket")
    except TimeoutError:
        keyring.stop()
        raise
    start = subprocess.run(["gnome-keyring-daemon", "--start",
                            "--components=secrets"],
                           env=environ, capture_output=True, text=True,
                           timeout=30)
    if start.returncode != 0:
        keyring.stop()
        raise RuntimeError(f"gnome-keyring-daemon --start: {start.stderr}")
    for line in start.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            environ[name] = value
    try:
        util.wait_for(lambda: default_collection(environ), timeout=20,
                      what="the login keyring to be ready")
    except TimeoutError:
        keyring.stop()
        raise
    return keyring


def default_collection(environ):
    """The Secret Service's default collection once it exists, else None."""
    res = subprocess.run(
        ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
         "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.ReadAlias",
         "string:default"],
        env=environ, capture_output=True, text=True, timeout=30)
    path = res.stdout.split('object path "')[-1].split('"')[0]
    return path if res.returncode == 0 and path.startswith("/org/") else None


@pytest.fixture
def keyring(env):
    """The Secret Service on a private bus; env gains its address."""
    ring = start_keyring(env)
    yield ring
    ring.stop()


@pytest.fixture
def fake(tmp_path):
    """prod2 (key prod2-key, secret prod2-secret: start_fake makes NAME-key
    and NAME-secret) with a redirect URI on a free loopback port."""
    server = start_fake(tmp_path / "fake")
    yield server
    server.stop()


def start_fake(workdir, names=("prod2",), **options):
    from fakesprinklr.launcher import Fake
    envs = [(name, f"{name}-key", f"{name}-secret",
             f"http://127.0.0.1:{util.free_port()}/sprinklr/callback")
            for name in names]
    return Fake(workdir, envs=envs, **options).start()


@pytest.fixture
def make_fake(tmp_path):
    """make_fake(names=..., **options) starts a fake with those options."""
    servers = []

    def make(names=("prod2",), **options):
        server = start_fake(tmp_path / f"fake{len(servers)}", names, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def mount(tmp_path, env):
    """mount(*options) mounts sprinklrfs and returns a util.Mount."""
    mounts = []

    def make(*options, name="mnt"):
        m = util.Mount(tmp_path / name, options, env,
                       tmp_path / f"{name}.log")
        mounts.append(m)
        return m.start()

    yield make
    errors = []
    for m in mounts:
        try:
            m.unmount()
        except AssertionError as err:
            errors.append(str(err))
        finally:
            m.kill()
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def mounted(keyring, make_fake, mount):
    """mounted(*options, profiles=250, names=("prod2",), **fake_options)
    starts a fake without rate limits (fake_options go to make_fake), logs
    in for every name, resets the counters and returns (fake, mount(*options)):
    mounting is counted, the logins are not. The mount, the keyring and
    make_fake are the test's own fixtures: ask for them to mount again."""

    def make(*options, profiles=250, names=("prod2",), **fake_options):
        fake = make_fake(names=names, profiles=profiles,
                         **dict(fsutil.UNLIMITED, **fake_options))
        for name in names:
            util.login(fake, keyring.env, name)
        fake.reset_counters()
        return fake, mount(*options)

    return make
