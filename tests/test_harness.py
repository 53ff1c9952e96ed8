"""The fixtures themselves: a private, real Secret Service per test."""
import os

import util


def secret_tool(keyring, *args, input=None):
    return util.run(["secret-tool", *args], keyring.env, input=input, timeout=30)


def test_keyring_stores_in_throwaway_home(keyring, tmp_path):
    res = secret_tool(keyring, "store", "--label=harness check",
                      "service", "sprinklrfs-harness", input="s3cret-value")
    assert res.returncode == 0, res.stderr
    res = secret_tool(keyring, "lookup", "service", "sprinklrfs-harness")
    assert res.returncode == 0 and res.stdout == "s3cret-value"
    assert keyring.directory.is_dir()
    assert str(keyring.directory).startswith(str(tmp_path))
    assert any(keyring.directory.glob("*.keyring"))


def test_keyrings_are_private_per_test(keyring):
    res = secret_tool(keyring, "lookup", "service", "sprinklrfs-harness")
    assert res.returncode != 0 and res.stdout == ""


def test_keyring_bus_is_private(keyring):
    address = keyring.env["DBUS_SESSION_BUS_ADDRESS"]
    assert address != os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    assert keyring.env["XDG_RUNTIME_DIR"] in address
