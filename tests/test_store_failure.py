"""A rotated token set that cannot be stored is kept, retried, and stored as
soon as the store works again: no login is ever lost to a full disk."""
import os
import subprocess

import fsutil
import util
from util import auth, fake_args


def fill(directory):
    """Fill the filesystem holding directory to the last byte."""
    for n, size in enumerate([1 << 20] * 64 + [512] * 64 + [1] * 64):
        try:
            fd = os.open(os.path.join(directory, f"filler{n}"),
                         os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError:
            return
        try:
            os.write(fd, b"\0" * size)
        except OSError:
            pass
        finally:
            os.close(fd)


def test_unstorable_tokens_are_kept_and_stored_later(env, make_fake, mount,
                                                     tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                    str(config)], check=True)
    try:
        env["XDG_CONFIG_HOME"] = str(config)
        fake = make_fake(rate_per_second=0, rate_per_hour=0)
        tokens = fake.grant("prod2")
        res = auth(env, "import", "prod2", "--store", "file", *fake_args(fake),
                   input=f"prod2-secret\n{tokens['access_token']}\n"
                         f"{tokens['refresh_token']}\n")
        assert res.returncode == 0, res.stderr
        m = mount("-o", "store=file,ttl=1")
        m.expect_log("credentials are kept in a file")
        m.expect_log("could not store the new tokens")
        root = m.path / "prod2"
        fsutil.read(root / "me.json")
        fill(config)
        fake.expire_token("prod2")

        def refreshed():
            os.listdir(root / "profiles")  # due after ttl: 401, then a refresh
            return fake.counters()["tokens_issued"]["prod2"] == 2

        util.wait_for(refreshed, timeout=20, what="a refresh through the mount")
        assert "could not store the new tokens" in m.log()
        assert fsutil.read(root / "me.json")
        latest = fake.tokens("prod2")["current"]["refresh_token"]
        stored = config / "sprinklrfs" / "prod2.json"
        assert latest not in stored.read_text()
        for name in os.listdir(config):
            if name.startswith("filler"):
                os.unlink(config / name)

        def kept_set_stored():
            os.listdir(root / "profiles")  # each request first retries the store
            return latest in stored.read_text()

        util.wait_for(kept_set_stored, timeout=20,
                      what="the kept tokens to reach the store")
        res = auth(env, "status", "prod2", "--store", "file")
        assert res.returncode == 0, res.stdout + res.stderr
        counters = fake.counters()
        assert counters["refresh_reused"].get("prod2", 0) == 0
        assert fake.calls("prod2", "token", 400) == fake.calls("prod2", "token", 401) == 0
        m.unmount()
    finally:
        subprocess.run(["umount", "-l", str(config)], check=False)
