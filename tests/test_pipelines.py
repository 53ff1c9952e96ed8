"""Import pipelines over a real mount's profiles.ndjson, as the README shows
them: jq, and PostgreSQL's \\copy into a jsonb table (a private throwaway
cluster). The fake holds one profile whose strings need every JSON escape,
which a text-format COPY would mangle."""
import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import fsutil
import util
from fsutil import Expected

ESCAPES = "escapes_0001"
HARD_NAME = 'Zoë "Q" O\\Brien\nsecond line\tafter a tab \\n not a newline'


def synced_ndjson(keyring, make_fake, mount):
    """A fake with 250 profiles plus ESCAPES, a mount whose first listing is
    complete, the ndjson path and what it must hold."""
    fake = make_fake(profiles=250, **fsutil.UNLIMITED)
    fake.put_profile("prod2", {
        "id": ESCAPES, "contact": {"fullName": HARD_NAME, "email": "zoe@example.com"},
        "demographics": {"location": "ny"}, "profiles": [],
        "createdTime": 1700000000000})
    util.login(fake, keyring.env)
    m = mount()
    root = m.path / "prod2"
    res = util.run([util.binary(), "sync", "--wait", root], keyring.env)
    assert res.returncode == 0, res.stderr
    expected = Expected(fake)
    assert expected.profiles[ESCAPES]["contact"]["fullName"] == HARD_NAME
    data = fsutil.read(root / "profiles.ndjson")
    assert b"\\\\" in data and b'\\"' in data and b"\\n" in data
    return root / "profiles.ndjson", expected


def in_ny(expected):
    return sorted(pid for pid, p in expected.profiles.items()
                  if (p.get("demographics") or {}).get("location") == "ny")


def jq(*args):
    return util.run(["jq", *args], check=True).stdout


def test_jq_over_profiles_ndjson(keyring, make_fake, mount):
    ndjson, expected = synced_ndjson(keyring, make_fake, mount)
    assert jq("-n", "[inputs] | length", str(ndjson)) == "251\n"
    ny = jq("-r", 'select(.demographics.location == "ny") | .id', str(ndjson))
    assert sorted(ny.split()) == in_ny(expected) and len(in_ny(expected)) > 10
    one = jq("-c", f'select(.id == "{ESCAPES}") | .contact', str(ndjson))
    assert json.loads(one) == expected.profiles[ESCAPES]["contact"]
    email = sorted(expected.profiles)[7]
    out = jq("-r", f'select(.id == "{email}") | .contact.email // "none"', str(ndjson))
    assert out == (expected.profiles[email].get("contact") or {}).get("email", "none") + "\n"


def postgres_bin():
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory, listening
    only on a Unix socket there, with trust authentication. PostgreSQL
    refuses to run as root: as root the server runs as the postgres user
    (or nobody), through runuser; psql runs as the caller."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="sprinklrfs-pg-"))
        self.data = self.base / "data"
        self.prefix = []
        if os.geteuid() == 0:
            user = "postgres"
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                user, entry = "nobody", pwd.getpwnam("nobody")
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
            self.prefix = ["runuser", "-u", user, "--"]
        self.started = False

    def server(self, tool, *args):
        res = subprocess.run(self.prefix + [str(self.bindir / tool), *args],
                             cwd=self.base, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 0, (tool, res.stdout, res.stderr)

    def start(self):
        self.server("initdb", "-D", str(self.data), "--auth=trust",
                    "--username=sprinklr", "--encoding=UTF8", "--no-locale",
                    "--no-sync")
        self.server("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"),
                    "-o", f"-k {self.base} -c listen_addresses='' -F", "-w", "start")
        self.started = True
        return self

    def psql(self, script, check=True):
        """Run script with psql (stop at the first error); its output, or
        with check=False the completed process."""
        res = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.base), "-U", "sprinklr", "-d", "postgres"],
            input=script, capture_output=True, text=True, timeout=120)
        if not check:
            return res
        assert res.returncode == 0, res.stderr
        return res.stdout

    def stop(self):
        if self.started:
            self.server("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def postgres():
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt package postgresql)")
    cluster = Cluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# The README's recipe. CSV with a quote and a delimiter that compact JSON
# never holds raw (control characters in strings are escaped) takes each
# line as it is; the text format would turn \\ and \n into other characters.
CREATE = "CREATE TABLE profiles (doc jsonb NOT NULL);\n"
LOAD = (r"\copy profiles (doc) FROM '{path}' "
        r"WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')" "\n")


def test_psql_copy_into_jsonb(keyring, make_fake, mount, postgres):
    ndjson, expected = synced_ndjson(keyring, make_fake, mount)
    postgres.psql(CREATE + LOAD.format(path=ndjson))
    out = postgres.psql(f"""
        SELECT json_build_object(
          'count', (SELECT count(*) FROM profiles),
          'ny', (SELECT json_agg(doc->>'id' ORDER BY doc->>'id') FROM profiles
                 WHERE doc->'demographics'->>'location' = 'ny'),
          'name', (SELECT doc->'contact'->>'fullName' FROM profiles
                   WHERE doc->>'id' = '{ESCAPES}'));
        """)
    got = json.loads(out)
    assert got["count"] == len(expected.profiles) == 251
    assert sorted(got["ny"]) == in_ny(expected)
    assert got["name"] == HARD_NAME
    # every document round-trips: jsonb is the same JSON value
    docs = json.loads(postgres.psql("SELECT jsonb_agg(doc) FROM profiles;"))
    assert {d["id"]: d for d in docs} == expected.profiles
    # the README's "replace": the same load again, in one transaction
    postgres.psql("BEGIN;\nTRUNCATE profiles;\n" + LOAD.format(path=ndjson)
                  + "COMMIT;\n")
    assert postgres.psql("SELECT count(*) FROM profiles;") == "251\n"


def test_psql_copy_in_text_format_would_mangle_escapes(keyring, make_fake, mount,
                                                       postgres):
    """Why the recipe says FORMAT csv: the default text format reads \\n in a
    JSON string as a newline, and the line is no longer JSON."""
    ndjson, _ = synced_ndjson(keyring, make_fake, mount)
    res = postgres.psql("CREATE TABLE t (doc jsonb);\n"
                        f"\\copy t (doc) FROM '{ndjson}'\n", check=False)
    assert res.returncode != 0
    assert "invalid input syntax for type json" in res.stderr
