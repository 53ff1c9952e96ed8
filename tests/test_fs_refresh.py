"""Tokens refresh underneath running mounts: 2-second tokens, two mounts of
the same environment, concurrent readers for 60 s, no error, no refresh
token used twice, no login needed."""
import json
import os
import random
import threading
import time

import fsutil
import util

SECONDS = 60


def reader(root, deadline, seed, errors, counts):
    rng = random.Random(seed)
    names = []

    def list_profiles():
        names[:] = os.listdir(root / "profiles")
        if len(names) != 250:
            raise AssertionError(f"{len(names)} profiles listed")

    def read_profile():
        name = rng.choice(names) if names else sorted(os.listdir(root / "profiles"))[0]
        data = fsutil.read(root / "profiles" / name)
        if json.loads(data)["id"] + ".json" != name:
            raise AssertionError(f"{name} holds another profile")

    def read_json(name):
        return lambda: json.loads(fsutil.read(root / name))

    ops = [list_profiles, read_profile, read_profile, read_json("me.json"),
           read_json(".status.json"), read_json("workspaces.json")]
    while time.monotonic() < deadline:
        op = rng.choice(ops)
        try:
            op()
            counts.append(op)
        except (OSError, ValueError, AssertionError) as err:
            errors.append((str(root), getattr(op, "__name__", "?"), repr(err)))


def test_refresh_under_two_mounts_and_concurrent_readers(keyring, make_fake, mount):
    fake = make_fake(profiles=250, token_lifetime=2, **fsutil.UNLIMITED)
    util.login(fake, keyring.env)
    mounts = [mount("-o", "ttl=1", name="a"), mount("-o", "ttl=1", name="b")]
    deadline = time.monotonic() + SECONDS
    errors, counts = [], []
    threads = [threading.Thread(target=reader,
                                args=(m.path / "prod2", deadline, n * 10 + k, errors, counts))
               for n, m in enumerate(mounts) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counters = fake.counters()
    print(f"{len(counts)} reads, {counters['tokens_issued']['prod2']} token sets, "
          f"{fake.calls('prod2', 'search')} searches")
    assert errors[:10] == []
    assert len(counts) > 100
    assert counters["refresh_reused"].get("prod2", 0) == 0
    assert counters["tokens_issued"]["prod2"] > SECONDS // 4
    assert fake.calls("prod2", "token", 400) == fake.calls("prod2", "token", 401) == 0
    res = util.auth(keyring.env, "status", "prod2")
    assert res.returncode == 0, res.stderr
