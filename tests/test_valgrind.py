"""The daemon under valgrind's memcheck over a short mount, read and unmount:
no memory errors and no memory definitely lost (tests/valgrind.supp names
what third-party libraries lose).

valgrind slows the daemon down many times over, hence the long waits. It
cannot run a build made with -Db_sanitize (tests/check --sanitize leaves this
file out).
"""
import json
import os
import re
import shutil

import pytest

import fsutil
import util

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--track-fds=no",
            f"--suppressions={util.ROOT / 'tests' / 'valgrind.supp'}"]
SLOW = 180  # seconds for anything the daemon does under valgrind


def sanitized_build():
    info = util.build_dir() / "meson-info" / "intro-buildoptions.json"
    try:
        options = json.loads(info.read_text())
    except FileNotFoundError:
        return False
    return any(o["name"] == "b_sanitize" and o["value"] not in ("none", "")
               for o in options)


def leaks(report):
    """Bytes definitely lost according to a memcheck log (0 when none)."""
    found = re.findall(r"definitely lost: ([\d,]+) bytes", report)
    return sum(int(n.replace(",", "")) for n in found)


@pytest.mark.timeout(900)
def test_memcheck_mount_read_unmount(keyring, make_fake, tmp_path):
    if sanitized_build():
        pytest.skip("valgrind cannot run a sanitizer build")
    if not shutil.which("valgrind"):
        pytest.skip("valgrind is not installed (tests/install-deps)")
    fake = make_fake(profiles=50, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    report = tmp_path / "memcheck.log"
    m = util.Mount(tmp_path / "mnt", [], keyring.env, tmp_path / "mnt.log",
                   prefix=VALGRIND + [f"--log-file={report}"])
    try:
        m.start(timeout=SLOW)
        root = m.path / "prod2"
        assert os.listdir(m.path) == ["prod2"]
        me = json.loads(fsutil.read(root / "me.json"))
        assert me
        names = sorted(os.listdir(root / "profiles"))
        assert len(names) == 50
        for name in names[:5]:
            profile = json.loads(fsutil.read(root / "profiles" / name))
            assert profile["id"] + ".json" == name
        assert len(fsutil.read(root / "profiles.ndjson").splitlines()) == 50
        status = json.loads(fsutil.read(root / ".status.json"))
        assert status
        try:
            m.unmount(timeout=SLOW)
        except AssertionError as err:
            raise AssertionError(f"{err}\n{report.read_text()}") from None
    finally:
        m.kill()
    log = report.read_text(errors="replace")
    assert "ERROR SUMMARY: 0 errors" in log, log
    assert leaks(log) == 0, log
