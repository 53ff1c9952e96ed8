"""Rate limiting per key: per second, per hour, answers and headers."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402

from fakesprinklr.client import ApiClient  # noqa: E402
from fakesprinklr.launcher import FakeError  # noqa: E402
from fakesprinklr.fixtures import api, fake, wait_for  # noqa: E402,F401

ME = "/api/v2/me"


def statuses(api, n):
    return [api.call("GET", ME) for _ in range(n)]


def test_per_second_limit_alternates_403_and_429(fake, api):
    fake.configure(rate_per_second=3)
    replies = statuses(api, 6)
    assert [r.status for r in replies[:3]] == [200, 200, 200]
    assert [r.status for r in replies[3:]] == [403, 429, 403]
    assert replies[3].text() == "Developer Over Qps" and "Retry-After" not in replies[3].headers
    assert replies[4].text() == "Developer Over Qps"
    assert 1 <= int(replies[4].headers["Retry-After"]) <= 2
    assert fake.counters()["throttled"]["prod2"] == 3
    assert fake.calls("prod2", "me", 403) == 2 and fake.calls("prod2", "me", 429) == 1


def test_throttled_calls_cost_no_quota(fake, api):
    fake.configure(rate_per_second=2)
    start = time.monotonic()
    assert [r.status for r in statuses(api, 2)] == [200, 200]
    while time.monotonic() - start < 0.8:
        assert api.call("GET", ME).status in (403, 429)
        time.sleep(0.02)
    # had the throttled calls counted, the window would stay full until ~1.8 s
    wait_for(lambda: api.call("GET", ME).status == 200, timeout=0.6)


def test_per_hour_limit_and_fixed_answers(fake, api):
    fake.configure(rate_per_hour=4, rate_limit_answer="429")
    first = statuses(api, 4)
    assert all(r.status == 200 for r in first)
    assert first[0].headers["X-RateLimit-Limit"] == "4"
    assert [r.headers["X-RateLimit-Remaining"] for r in first] == ["3", "2", "1", "0"]
    assert int(first[0].headers["X-RateLimit-Reset"]) > time.time()
    over = statuses(api, 2)
    assert all(r.status == 429 and r.text() == "Developer Over Rate" for r in over)
    assert 3500 <= int(over[0].headers["Retry-After"]) <= 3600
    fake.configure(rate_limit_answer="403")
    assert api.call("GET", ME).status == 403


def test_control_and_oauth_are_not_limited(fake, api):
    fake.configure(rate_per_second=1, rate_per_hour=1)
    for _ in range(5):
        fake.counters()
    assert api.call("GET", ME).status == 200
    api.refresh()
    api.refresh()
    assert api.call("GET", ME).status in (403, 429)


def test_limits_are_per_key(fake, api):
    fake.configure(rate_per_second=2)
    prod = ApiClient(fake, "prod")
    prod.login()
    assert [r.status for r in statuses(api, 3)] == [200, 200, 403]
    assert prod.call("GET", ME).status == 200
    prod.close()


def test_unknown_keys_are_not_throttled(fake, api):
    fake.configure(rate_per_second=1)
    assert all(api.call("GET", ME, key="nope").status == 403 for _ in range(3))
    assert api.call("GET", ME).status == 200
    assert fake.counters()["throttled"] == {}


def test_rate_window_sets_the_length_of_the_hour(fake, api):
    fake.configure(rate_per_hour=3, rate_window=2, rate_limit_answer="429")
    first = statuses(api, 3)
    assert [r.status for r in first] == [200, 200, 200]
    assert int(first[2].headers["X-RateLimit-Reset"]) <= time.time() + 3
    over = api.call("GET", ME)
    assert over.status == 429 and over.text() == "Developer Over Rate"
    assert 1 <= int(over.headers["Retry-After"]) <= 2
    # the window slides after 2 s, not an hour
    wait_for(lambda: api.call("GET", ME).status == 200, timeout=5)
    assert fake.calls("prod2", "me", 200) == 4


def test_rate_window_must_be_positive(fake, api):
    with pytest.raises(FakeError) as err:
        fake.configure(rate_window=0)
    assert err.value.status == 400
    assert fake.control("GET", "config")["rate_window"] == 3600
