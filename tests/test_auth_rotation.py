"""Rotating single-use refresh tokens under contention, and secrets that must
never leave the keyring."""
import os
import threading
import time
from pathlib import Path

from util import Login, auth, fake_args, login


def test_rotation_under_contention(keyring, make_fake):
    """Loops of `auth status` and `auth refresh` side by side for 60 s with
    2-second tokens: no failure, no refresh token reused, no login needed."""
    fake = make_fake(token_lifetime=2, rate_per_second=0, rate_per_hour=0)
    login(fake, keyring.env)
    deadline = time.monotonic() + 60
    failures, runs = [], []

    def loop(command):
        while time.monotonic() < deadline:
            res = auth(keyring.env, command, "prod2")
            runs.append(command)
            if res.returncode != 0:
                failures.append((command, res.returncode, res.stdout, res.stderr))

    threads = [threading.Thread(target=loop, args=(c,))
               for c in ("status", "status", "refresh", "refresh")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counters = fake.counters()
    print(f"{len(runs)} commands, {counters['tokens_issued']['prod2']} token sets")
    assert failures == []
    assert runs.count("refresh") > 10 and runs.count("status") > 10
    assert counters["refresh_reused"].get("prod2", 0) == 0
    assert fake.calls("prod2", "token", 400) == fake.calls("prod2", "token", 401) == 0
    assert auth(keyring.env, "status", "prod2").returncode == 0


def regular_files(*roots):
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = Path(dirpath, name)
                if path.is_file() and not path.is_symlink():
                    yield path


def test_secrets_never_leak(keyring, make_fake, tmp_path):
    fake = make_fake(token_lifetime=2, rate_per_second=0, rate_per_hour=0)
    outputs = []
    flow = Login(fake, keyring.env)
    proc_views = [Path(f"/proc/{flow.proc.pid}/{part}").read_bytes()
                  for part in ("cmdline", "environ")]
    callback = flow.authorize()
    code_value = callback.split("code=")[1].split("&")[0]
    flow.visit(callback)
    outputs.extend(flow.finish()[1:])
    for _ in range(3):
        fake.expire_token("prod2")
        res = auth(keyring.env, "status", "prod2")
        outputs += [res.stdout, res.stderr]
    res = auth(keyring.env, "refresh", "prod2")
    outputs += [res.stdout, res.stderr]
    tokens = fake.grant("prod2")
    res = auth(keyring.env, "import", "prod2", *fake_args(fake),
               input=f"prod2-secret\n{tokens['access_token']}\n{tokens['refresh_token']}\n")
    outputs += [res.stdout, res.stderr]
    assert res.returncode == 0
    secrets = set(fake.tokens("prod2")["issued"]) | {"prod2-secret", code_value}
    assert len(secrets) >= 8
    home = keyring.env["HOME"]
    files = list(regular_files(home, keyring.env["XDG_RUNTIME_DIR"]))
    assert files, "the keyring should have written its file under HOME"
    for secret in secrets:
        needle = secret.encode()
        for path in files:
            assert needle not in path.read_bytes(), f"a secret is in {path}"
        for text in outputs:
            assert secret not in text
        for view in proc_views:
            assert needle not in view
    assert fake.counters()["refresh_reused"].get("prod2", 0) == 0
