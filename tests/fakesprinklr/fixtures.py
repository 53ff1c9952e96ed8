"""pytest fixtures for the fake's own tests (import them into a test module).

``fake`` is one server per test module with three environments and no rate
limits; ``api`` is a logged-in client of prod2, with counters, faults, rate
windows and settings reset before each test.
"""

import time

import pytest

from fakesprinklr.client import ApiClient
from fakesprinklr.launcher import Fake

ENVS = [("prod", "prod-key", "prod-secret", "http://localhost:8123/sprinklr/callback"),
        ("prod2", "sandbox-key", "sandbox-secret", "http://localhost:8123/sprinklr/callback"),
        ("qa4", "qa-key", "qa-secret", "http://127.0.0.1:9000/cb?tenant=qa")]
BASELINE = {"token_lifetime": 3600, "cursor_lifetime": 60, "code_lifetime": 60,
            "rate_per_second": 0, "rate_per_hour": 0, "rate_window": 3600,
            "rate_limit_answer": "alternate",
            "latency": 0, "max_page_size": 1000, "max_page_size_answer": "400",
            "expires_in_string": False,
            "tie_order": "id", "short_pages": False, "empty_last_page": False,
            "cursor_expired_status": 400, "numeric_strings": False}
PROFILES = 300


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with Fake(tmp_path_factory.mktemp("fake"), envs=ENVS, profiles=PROFILES, **BASELINE) as server:
        yield server


@pytest.fixture
def api(fake):
    fake.clear_faults()
    fake.configure(**BASELINE)
    fake.reset_limits()
    client = ApiClient(fake, "prod2")
    client.login()
    fake.reset_counters()
    yield client
    client.close()


def wait_for(condition, timeout=10.0, interval=0.02):
    """Poll condition() until true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met within %.1f s" % timeout)
