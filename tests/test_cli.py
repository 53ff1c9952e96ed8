"""The command line as the Linux toolbox sees it: --version, --help against
the man page, the bash completion (run by bash itself), `auth list`, log
levels, the API call trace, and where a daemon's messages go."""
import collections
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

import fsutil
import util
from util import auth, fake_args

MAN_SOURCE = util.ROOT / "contrib" / "man" / "sprinklrfs.1.scd"
COMPLETION = util.ROOT / "contrib" / "bash-completion" / "sprinklrfs"

# One line of the call trace (see sprinklrfs(1), LOGGING).
TRACE = re.compile(r"^sprinklrfs: debug: (?P<env>[a-z0-9]+): (?P<method>GET|POST) "
                   r"(?P<path>/\S*) (?P<status>\d{3}|failed) (?P<ms>\d+) ms"
                   r"(?: \(retry (?P<retry>\d+)\))?(?P<rest>.*)$")


def plain_env():
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"),
            "LANG": "C.UTF-8"}


# --- --version and --help against the man page ---------------------------

def project_version():
    res = subprocess.run(["meson", "introspect", "--projectinfo",
                          str(util.build_dir())],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(res.stdout)["version"]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_projects(flag):
    res = util.run([util.binary(), flag], plain_env())
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"sprinklrfs version {project_version()}"
    assert any(line.startswith("FUSE library version ") for line in lines)


def help_section(text, title):
    """The lines of --help from `title` to the next blank line."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = lines.index("", start)
    return lines[start:end]


def help_mount_options():
    res = util.run([util.binary(), "--help"], plain_env())
    assert res.returncode == 0, res.stderr
    own = set()
    for line in help_section(res.stdout, "sprinklrfs options:"):
        spec = re.match(r"\s+-o (\S+)", line)
        if spec:
            own |= {part.split("=")[0] for part in spec.group(1).split(",")}
    fuse = set()
    for line in help_section(res.stdout, "FUSE options:"):
        fuse |= set(re.findall(r"-o (?:\[no\])?([a-z_]+)", line))
        fuse |= set(re.findall(r"(?<![\w-])(-[a-zA-Z]|--[a-z]+)\b", line))
    return res.stdout, own, fuse


def man_sections():
    """{section title: [entry lines]}: an entry is a line starting with '*'."""
    sections, title = collections.defaultdict(list), None
    for line in MAN_SOURCE.read_text().splitlines():
        if line.startswith("# "):
            title = line[2:]
        elif line.startswith("*") and title:
            sections[title].append(line)
    return sections


def man_names(lines, pattern):
    return {name for line in lines for name in re.findall(pattern, line)}


def test_help_and_man_page_name_the_same_mount_options():
    text, own, fuse = help_mount_options()
    man = man_sections()
    assert man_names(man["OPTIONS"], r"^\*-o ([a-z_]+)") == own
    assert "log_level" in own and "cache_dir" in own and "memory_limit" in own
    man_fuse = man_names(man["FUSE OPTIONS"], r"-o ([a-z_]+)") | \
        man_names(man["FUSE OPTIONS"], r"\*(-[a-z])\*")
    assert man_fuse <= fuse, man_fuse - fuse
    assert "debug" in man_fuse
    # the usage lines name every command the man page's synopsis names
    synopsis = MAN_SOURCE.read_text().split("# SYNOPSIS")[1].split("# ")[0]
    usage = text.split("sprinklrfs options:")[0]
    assert "auth login|import|list|status|refresh|logout" in usage
    assert set(re.findall(r"\*sprinklrfs auth (\w+)\*", synopsis)) == \
        {"login", "import", "list", "status", "refresh", "logout"}
    assert "sync MOUNTPOINT/ENV [--full | --wait]" in usage


def auth_help():
    res = util.run([util.binary(), "auth", "--help"], plain_env())
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_help_and_man_page_name_the_same_auth_commands_and_options():
    text = auth_help()
    commands = set(re.findall(r"sprinklrfs auth (\w+)", text))
    options = set(re.findall(r"--[a-z][a-z-]+", text)) | {"--help"}
    man = man_sections()
    assert man_names(man["AUTH COMMANDS"], r"^\*auth (\w+)\*") == commands
    assert man_names(man["AUTH OPTIONS"], r"--[a-z][a-z-]+") == options
    assert commands == {"login", "import", "list", "status", "refresh", "logout"}


def test_help_and_man_page_name_the_same_sync_flags():
    res = util.run([util.binary(), "sync", "--help"], plain_env())
    assert res.returncode == 0
    flags = set(re.findall(r"--[a-z]+", res.stdout)) | {"--help"}
    assert man_names(man_sections()["SYNC"], r"--[a-z]+") == flags == \
        {"--full", "--wait", "--help"}


def test_man_page_is_built_and_renders():
    if not shutil.which("scdoc"):
        pytest.skip("scdoc is not installed (tests/install-deps installs it)")
    page = util.build_dir() / "contrib" / "man" / "sprinklrfs.1"
    assert page.exists(), "meson should build the man page when scdoc exists"
    fresh = subprocess.run(["scdoc"], input=MAN_SOURCE.read_text(),
                           capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    undated = [line for line in fresh.stdout.splitlines() if not line.startswith(".TH")]
    assert undated == [line for line in page.read_text().splitlines()
                       if not line.startswith(".TH")], "the built page is stale"
    if shutil.which("man"):
        shown = subprocess.run(["man", "-l", str(page)], capture_output=True,
                               text=True, timeout=60,
                               env={"PATH": os.environ["PATH"], "MANWIDTH": "80",
                                    "MANPAGER": "cat", "LANG": "C.UTF-8"})
        assert shown.returncode == 0 and shown.stderr == "", shown.stderr
        assert "log_level=error|warning|info|debug" in shown.stdout


# --- auth list --------------------------------------------------------------

def import_file_store(fake, environ, name="prod2"):
    tokens = fake.grant(name)
    lines = f"{name}-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n"
    res = auth(environ, "import", name, "--store", "file", *fake_args(fake, name),
               input=lines)
    assert res.returncode == 0, res.stderr


def test_auth_list_reads_the_store_only(env, make_fake):
    fake = make_fake(names=("prod2", "qa4"))
    res = auth(env, "list", "--store", "file")
    assert res.returncode == 0 and res.stdout == "", res.stderr
    import_file_store(fake, env, "qa4")
    import_file_store(fake, env, "prod2")
    fake.reset_counters()
    res = auth(env, "list", "--store", "file")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "prod2\nqa4\n"
    fake.stop()
    assert auth(env, "list", "--store=file").stdout == "prod2\nqa4\n"


def test_auth_list_keyring_and_usage(keyring, fake):
    assert auth(keyring.env, "list").stdout == ""
    util.login(fake, keyring.env)
    fake.reset_counters()
    res = auth(keyring.env, "list")
    assert res.returncode == 0 and res.stdout == "prod2\n", res.stderr
    assert fake.calls() == 0
    res = auth(keyring.env, "list", "prod2")
    assert res.returncode == 2 and "takes no environment" in res.stderr


def test_auth_list_without_secret_service(env, tmp_path):
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-bus"
    res = auth(env, "list")
    assert res.returncode == 1 and res.stdout == ""
    assert "no Secret Service is reachable" in res.stderr


# --- bash completion --------------------------------------------------------

def complete(line, environ=None, cwd=None, with_line=True):
    """COMPREPLY of the completion function for the command line `line`,
    the cursor at its end; bash splits COMP_WORDS at blanks here."""
    environ = dict(environ or plain_env())
    environ["PATH"] = f"{util.build_dir()}:{environ['PATH']}"
    setup = 'COMP_LINE=$1; COMP_POINT=${#1}\n' if with_line else ''
    script = (f"source {shlex.quote(str(COMPLETION))}\n{setup}"
              'read -ra COMP_WORDS <<<"$1"\n'
              'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
              'if [[ -z $1 || $1 == *" " ]]; then COMP_WORDS+=(""); '
              '((COMP_CWORD++)); fi\n'
              '_sprinklrfs sprinklrfs "${COMP_WORDS[COMP_CWORD]}" '
              '"${COMP_WORDS[COMP_CWORD-1]}"\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    res = subprocess.run(["bash", "-c", script, "bash", line], env=environ, cwd=cwd,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    return [w for w in res.stdout.split("\n") if w]


def completion_array(name):
    script = f'source {shlex.quote(str(COMPLETION))}; printf "%s\\n" "${{{name}[@]}}"'
    res = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                         timeout=60)
    return {w.rstrip("=") for w in res.stdout.split()}


def test_completion_is_registered_and_clean():
    res = subprocess.run(["bash", "-c", f"source {shlex.quote(str(COMPLETION))}; "
                          "complete -p sprinklrfs"],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "complete -F _sprinklrfs sprinklrfs"
    assert res.stderr == ""


def test_completion_knows_the_options_of_help():
    _, own, fuse = help_mount_options()
    assert completion_array("_sprinklrfs_own_options") == own
    assert completion_array("_sprinklrfs_fuse_options") <= fuse
    offered = {w.rstrip("=") for w in complete("sprinklrfs /mnt -o ")}
    assert own <= offered
    commands = set(re.findall(r"sprinklrfs auth (\w+)", auth_help()))
    assert set(complete("sprinklrfs auth ")) == commands | {"--help"}
    man_options = man_names(man_sections()["AUTH OPTIONS"], r"--[a-z][a-z-]+")
    offered = set()
    for command in commands:
        offered |= set(complete(f"sprinklrfs auth {command} --"))
    assert offered == man_options
    assert set(complete("sprinklrfs sync --")) == {"--full", "--wait", "--help"}


def test_completion_of_commands_and_directories(tmp_path):
    (tmp_path / "mnt").mkdir()
    (tmp_path / "mnt" / "prod2").mkdir()
    (tmp_path / "afile").write_text("")
    assert complete("sprinklrfs ", cwd=tmp_path) == ["auth", "sync", "mnt"]
    assert complete("sprinklrfs a", cwd=tmp_path) == ["auth"]
    assert complete("sprinklrfs m", cwd=tmp_path) == ["mnt"]
    assert complete("sprinklrfs sync mnt/", cwd=tmp_path) == ["mnt/prod2"]
    assert complete("sprinklrfs sync --wait mnt/p", cwd=tmp_path) == ["mnt/prod2"]
    assert complete("sprinklrfs -f -o ttl=5 m", cwd=tmp_path) == ["mnt"]
    assert set(complete("sprinklrfs -")) >= {"-f", "-d", "-o", "--help", "--version"}
    assert complete("sprinklrfs auth lo") == ["login", "logout"]
    assert complete("sprinklrfs auth lo", with_line=False) == ["login", "logout"]
    assert complete("sprinklrfs auth status --j") == ["--json"]
    assert set(complete("sprinklrfs auth refresh --")) == {"--store", "--help"}
    assert complete("sprinklrfs auth login prod2 --key ") == []


def test_completion_of_option_lists_and_values(tmp_path):
    (tmp_path / "cache").mkdir()
    assert complete("sprinklrfs mnt -o sto") == ["store="]
    assert complete("sprinklrfs mnt -o store=") == ["keyring", "file"]
    # readline replaces only what follows the last '=' or ':' of the word
    assert complete("sprinklrfs mnt -o ttl=60,sto") == ["60,store="]
    assert complete("sprinklrfs mnt -o ro,log_level=") == \
        ["error", "warning", "info", "debug"]
    assert complete("sprinklrfs mnt -o log_level=w") == ["warning"]
    assert complete("sprinklrfs mnt -o ttl=5,page_size=") == ["auto"]
    assert complete("sprinklrfs mnt -o ttl=1,cache_dir=ca", cwd=tmp_path) == ["cache"]
    assert complete("sprinklrfs mnt -oallow_o") == ["-oallow_other"]
    assert complete("sprinklrfs mnt -o allow_other,de") == ["allow_other,debug"]
    assert complete("sprinklrfs auth login prod2 --store ") == ["keyring", "file"]
    assert complete("sprinklrfs auth import prod2 --store=f") == ["file"]


def test_completion_of_environment_names_from_the_keyring(keyring, make_fake):
    fake = make_fake(names=("prod2", "qa4"))
    assert complete("sprinklrfs auth logout ", keyring.env) == []
    util.login(fake, keyring.env, "qa4")
    util.login(fake, keyring.env, "prod2")
    fake.reset_counters()
    assert complete("sprinklrfs auth logout ", keyring.env) == ["prod2", "qa4"]
    assert complete("sprinklrfs auth refresh q", keyring.env) == ["qa4"]
    assert complete("sprinklrfs auth status prod2 ", keyring.env) == ["prod2", "qa4"]
    assert complete("sprinklrfs auth logout prod2 ", keyring.env) == []
    assert complete("sprinklrfs auth logout --store keyring ", keyring.env) == \
        ["prod2", "qa4"]
    assert complete("sprinklrfs auth list ", keyring.env) == []
    assert complete("sprinklrfs mnt -o env=", keyring.env) == ["prod2", "qa4"]
    assert complete("sprinklrfs mnt -o ttl=9,env=prod2:q", keyring.env) == ["qa4"]
    assert fake.calls() == 0, "completion must not call the API"


def test_completion_of_environment_names_from_a_file_store(env, fake):
    import_file_store(fake, env)
    assert complete("sprinklrfs auth logout ", env) == []
    assert complete("sprinklrfs auth logout --store file ", env) == ["prod2"]
    assert complete("sprinklrfs auth logout --store=file p", env) == ["prod2"]
    assert complete("sprinklrfs mnt -o store=file,env=", env) == ["prod2"]


def readline_completes(typed, shown, timeout=20):
    """Types `typed` (ending in a TAB) into an interactive bash on a pty;
    true when the line then reads `shown`: readline's own word splitting."""
    import pty
    import select
    import time
    environ = dict(plain_env(), TERM="dumb", INPUTRC="/dev/null", PS1="$ ")
    environ["PATH"] = f"{util.build_dir()}:{environ['PATH']}"
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], environ)
    seen = b""
    try:
        os.write(fd, f"source {shlex.quote(str(COMPLETION))}; echo READY\n".encode())
        os.write(fd, typed.encode())
        deadline = time.monotonic() + timeout
        while shown.encode() not in seen.split(b"READY")[-1] and \
                time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
    return shown.encode() in seen.split(b"READY")[-1]


@pytest.mark.parametrize("typed, shown", [
    ("sprinklrfs /mnt -o ttl=60,sto\t", "sprinklrfs /mnt -o ttl=60,store="),
    ("sprinklrfs /mnt -o ro,store=fi\t", "sprinklrfs /mnt -o ro,store=file "),
    ("sprinklrfs auth lis\t", "sprinklrfs auth list "),
    ("sprinklrfs auth import prod2 --store=k\t",
     "sprinklrfs auth import prod2 --store=keyring "),
])
def test_completion_in_interactive_bash(typed, shown):
    assert readline_completes(typed, shown)


# --- log levels and the call trace -----------------------------------------

def trace_lines(text):
    return [m for m in map(TRACE.match, text.splitlines()) if m]


def secrets_of(fake, env="prod2"):
    return set(fake.tokens(env)["issued"]) | {f"{env}-key", f"{env}-secret"}


def test_log_level_is_checked(env):
    res = util.run([util.binary(), "mnt", "-o", "log_level=loud"], env)
    assert res.returncode == 1
    assert "-o log_level takes error, warning, info or debug" in res.stderr


def test_trace_has_one_line_per_api_call_and_no_secret(mounted, keyring):
    fake, m = mounted("-o", "log_level=debug")
    res = util.run([util.binary(), "sync", "--wait", m.path / "prod2"], keyring.env)
    assert res.returncode == 0, res.stderr
    fsutil.read(m.path / "prod2" / "me.json")
    fake.expire_token("prod2")
    fsutil.read(m.path / "prod2" / "workspaces.json")     # 401, refresh, again
    fake.fault("status", count=1, env="prod2", endpoint="bootstrap", status=503)
    fsutil.read(m.path / "prod2" / "custom-fields.json")  # 503, then retried
    log = m.log()
    traced = trace_lines(log)
    assert {t["env"] for t in traced} == {"prod2"}
    api = [t for t in traced if t["path"] != "/oauth/token"]
    token = [t for t in traced if t["path"] == "/oauth/token"]
    counted = fake.counters()["calls"]["prod2"]
    by_status = collections.Counter()
    for endpoint, statuses in counted.items():
        if endpoint != "token":
            by_status.update({int(s): n for s, n in statuses.items()})
    assert collections.Counter(int(t["status"]) for t in api) == by_status
    assert len(token) == fake.calls("prod2", "token") == 1
    assert token[0]["method"] == "POST" and token[0]["status"] == "200"
    assert any(t["method"] == "POST" and t["path"] == "/api/v2/search/PROFILE"
               for t in api)
    assert any(t["path"] == "/api/v2/me" and t["status"] == "200" for t in api)
    [failed] = [t for t in api if t["status"] == "503"]
    assert re.fullmatch(r"; retrying in \d+\.\d\d s", failed["rest"])
    assert any(t["retry"] == "1" and t["status"] == "200" for t in api)
    assert any(t["status"] == "401" for t in api)
    for secret in secrets_of(fake):
        assert secret not in log


def test_debug_option_keeps_libfuse_meaning_and_traces(mounted):
    fake, m = mounted("-o", "debug")
    m.expect_log(r"unique: \d+")          # libfuse's request trace
    os.listdir(m.path)
    fsutil.read(m.path / "prod2" / "me.json")
    log = m.log()
    assert re.search(r"opcode: (LOOKUP|GETATTR)", log), "libfuse's trace is missing"
    assert any(t["path"] == "/api/v2/me" for t in trace_lines(log))
    for secret in secrets_of(fake):
        assert secret not in log


def test_default_level_has_no_trace_and_error_level_drops_info(mounted, mount):
    fake, m = mounted()
    quiet = mount("-o", "log_level=error", name="quiet")
    for mnt in (m, quiet):
        fsutil.read(mnt.path / "prod2" / "me.json")
        mnt.proc.send_signal(1)   # SIGHUP: a full sync, logged at info
    util.wait_for(lambda: "SIGHUP: full sync" in m.log(), timeout=10,
                  what="the info line of SIGHUP")
    assert not trace_lines(m.log()) and "debug:" not in m.log()
    fsutil.read(quiet.path / "prod2" / "me.json")
    assert quiet.log() == ""


# --- where a daemon's messages go -----------------------------------------

# Run as root in a private mount namespace (unshare): gives itself a /dev of
# its own whose log is a socket it reads, so syslog(3) can be watched without
# a syslog daemon and without touching the machine's /dev. Then it mounts in
# the background, reads, sends SIGHUP, unmounts, and prints what the terminal
# and syslog got and how the daemon exited: it is the daemon's subreaper.
SYSLOG_HELPER = r"""
import ctypes, json, os, signal, socket, subprocess, sys, time
binary, mnt, work = sys.argv[1:4]
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_CHILD_SUBREAPER: " + os.strerror(ctypes.get_errno()))
old = os.path.join(work, "olddev")
os.makedirs(old)
subprocess.run(["mount", "--rbind", "/dev", old], check=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/dev"], check=True)
for name in os.listdir(old):
    os.symlink(os.path.join(old, name), os.path.join("/dev", name))
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")

def daemon_pid():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0] == binary.encode() and mnt.encode() in argv:
            return int(pid)

def wait(cond, what):
    deadline = time.monotonic() + 20
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)

log.setblocking(False)
messages = []

def received():
    while True:
        try:
            messages.append(log.recv(65536).decode(errors="replace"))
        except BlockingIOError:
            return messages

out, pid = os.path.join(work, "terminal"), None
try:
    with open(out, "w") as terminal:
        res = subprocess.run([binary, mnt, "-o", "log_level=debug"],
                             stdin=subprocess.DEVNULL, stdout=terminal,
                             stderr=terminal, timeout=60)
    pid = daemon_pid()
    listed = len(os.listdir(os.path.join(mnt, "prod2", "profiles")))
    with open(os.path.join(mnt, "prod2", "me.json")) as f:
        f.read()
    os.kill(pid, signal.SIGHUP)
    wait(lambda: any("SIGHUP" in m for m in received()), "SIGHUP's log line")
    subprocess.run(["fusermount3", "-u", mnt], check=True)
    _, status = os.waitpid(pid, 0)
    pid = None
finally:
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        subprocess.run(["fusermount3", "-u", "-z", mnt])
received()
with open(out) as f:
    print(json.dumps({"code": res.returncode, "listed": listed,
                      "terminal": f.read(), "syslog": messages,
                      "daemon_exit": os.waitstatus_to_exitcode(status)}))
"""


def test_daemon_logs_to_syslog_not_the_terminal(keyring, make_fake, tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a private /dev/log")
    fake = make_fake(profiles=50, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mnt, work = tmp_path / "daemon", tmp_path / "ns"
    mnt.mkdir()
    work.mkdir()
    # the daemon's stderr is /dev/null: its sanitizer reports go to files
    reports = tmp_path / "sanitizer"
    environ = util.sanitizer_to_files(keyring.env, reports)
    res = util.run(["unshare", "--mount", "--propagation", "private",
                    "/usr/bin/python3", "-c", SYSLOG_HELPER, util.binary(),
                    str(mnt), str(work)], environ, timeout=120)
    assert res.returncode == 0, res.stderr
    seen = json.loads(res.stdout)
    assert seen["code"] == 0 and seen["listed"] == 50
    assert seen["daemon_exit"] == 0, "the daemon must exit 0 after the unmount"
    util.check_sanitizer_files(reports)
    assert seen["terminal"] == "", "a daemon must not write to the terminal"
    # <priority>TIMESTAMP sprinklrfs[PID]: MESSAGE, facility daemon (3)
    entries = [re.match(r"<(\d+)>.*? sprinklrfs\[\d+\]: (.*)$", m)
               for m in seen["syslog"]]
    assert entries and all(entries), seen["syslog"]
    priority = {e[2]: int(e[1]) for e in entries}
    traced = trace_lines("\n".join("sprinklrfs: " + text for text in priority))
    assert any(t["path"] == "/api/v2/me" for t in traced), priority
    daemon = 3 * 8
    assert {priority[t.string[len("sprinklrfs: "):]] for t in traced} == {daemon + 7}
    assert priority.get("SIGHUP: full sync of every environment") == daemon + 6
    for secret in secrets_of(fake):
        assert all(secret not in m for m in seen["syslog"])


def test_errors_before_daemonizing_go_to_the_terminal(env, tmp_path):
    res = util.run([util.binary(), tmp_path / "missing", "-o", "log_level=debug"], env)
    assert res.returncode == 1
    assert res.stderr.startswith("sprinklrfs: error: fuse: bad mount point")
