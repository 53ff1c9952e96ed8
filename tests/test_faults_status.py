"""Every row of the API's status table (sprinklr-api.md §3.1), injected with
the fake's "status" fault on one endpoint: what a read gets, exactly how many
calls it costs, and what the daemon says."""
import errno
import json
import os

import pytest

import fsutil
import util
from fsutil import api_calls, errno_of, read

FOREVER = 100000
INVALID_TOKEN = json.dumps({"data": [], "errors": [{"code": 401, "message": "Invalid Token"}]})
BAD_REQUEST = json.dumps({"data": None,
                          "errors": [{"code": 400, "message": "Invalid filter key"}]})
LOGIN_HINT = "run: sprinklrfs auth login prod2"
WARNINGS = r"sprinklrfs: warning: "


def ready(mounted, *options, profiles=20):
    """mounted() and a first look at prod2 (which lists its profiles); the
    counters start from zero afterwards."""
    fake, m = mounted(*options, profiles=profiles)
    fsutil.enter(fake, m)
    return fake, m


def me_path(m):
    return m.path / "prod2" / "me.json"


def expect_me(fake):
    """The me.json a mount must show; resets the counters after asking."""
    data = fsutil.api_get(fake, "prod2", "/api/v2/me")["data"]
    fake.reset_counters()
    return data


def token_calls(fake):
    return fake.calls("prod2", "token")


def test_400_with_errors_is_eio_logged_and_not_retried(mounted):
    fake, m = ready(mounted)
    m.expect_log(r"\bprod2\b")
    fake.fault("status", FOREVER, env="prod2", endpoint="me", status=400, body=BAD_REQUEST)
    assert errno_of(lambda: read(me_path(m))) == errno.EIO
    assert api_calls(fake, endpoint="me", status=400) == 1
    assert api_calls(fake) == 1
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")
    assert isinstance(fsutil.status(m)["last_error"], str)
    fake.clear_faults()
    util.wait_for(lambda: errno_of(lambda: read(me_path(m))) is None, timeout=10,
                  what="me.json once the fault is gone")


def test_400_on_a_first_search_is_eio(mounted):
    """page_size=auto asks for fewer after each 400 (1000, 500, 250, 125,
    100); a 400 at 100 too was not about the size."""
    fake, m = mounted(profiles=20)
    m.expect_log(r"\bprod2\b")
    fake.fault("status", FOREVER, env="prod2", endpoint="search", status=400,
               body=BAD_REQUEST)
    profiles = m.path / "prod2" / "profiles"
    os.stat(m.path / "prod2")          # its attributes do not need the listing
    fake.reset_counters()
    assert errno_of(lambda: os.stat(profiles)) == errno.EIO
    assert api_calls(fake, endpoint="search") == 5
    assert api_calls(fake) == 5
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")
    fake.clear_faults()
    util.wait_for(lambda: errno_of(lambda: os.listdir(profiles)) is None, timeout=10,
                  what="the listing once the fault is gone")
    assert len(os.listdir(profiles)) == 20


def test_400_on_an_expired_cursor_resumes_the_listing(mounted):
    fake, m = mounted("-o", "page_size=10", profiles=100, cursor_lifetime=1)
    m.expect_log(r"cursor")
    # the fifth page's request waits past its cursor's lifetime; the others
    # go straight through
    fake.fault("latency", 3, env="prod2", endpoint="search-next", seconds=0)
    fake.fault("latency", 1, env="prod2", endpoint="search-next", seconds=2)
    names = os.listdir(m.path / "prod2" / "profiles")
    assert sorted(names) == sorted(f"{p['id']}.json" for p in fake.profiles("prod2"))
    assert api_calls(fake, endpoint="search-next", status=400) == 1
    assert api_calls(fake, endpoint="search", status=200) == 2
    # resumed from the last modifiedTime seen: a few ties fetched again, never
    # the four pages already listed
    listed = api_calls(fake, endpoint=("search", "search-next"), status=200)
    assert fsutil.pages(100, 10) + 1 <= listed <= fsutil.pages(100, 10) + 2
    assert api_calls(fake) == listed + 1


def test_401_refreshes_once_and_retries(mounted):
    fake, m = ready(mounted)
    want = expect_me(fake)
    fake.fault("status", 1, env="prod2", endpoint="me", status=401, body=INVALID_TOKEN)
    assert fsutil.same_json(read(me_path(m)), want)
    assert api_calls(fake, endpoint="me", status=401) == 1
    assert api_calls(fake, endpoint="me", status=200) == 1
    assert token_calls(fake) == 1
    assert fake.counters()["refresh_reused"].get("prod2", 0) == 0


def test_401_after_the_refresh_is_eacces_with_the_fix(mounted):
    fake, m = ready(mounted)
    m.expect_log(LOGIN_HINT)
    fake.fault("status", 2, env="prod2", endpoint="me", status=401, body=INVALID_TOKEN)
    assert errno_of(lambda: read(me_path(m))) == errno.EACCES
    assert api_calls(fake, endpoint="me", status=401) == 2
    assert api_calls(fake) == 2
    assert token_calls(fake) == 1
    fsutil.wait_log(m, LOGIN_HINT)


@pytest.mark.parametrize("answer", ["Developer Over Qps", "Developer Over Rate"])
def test_403_over_the_limit_waits_and_retries(mounted, answer):
    fake, m = ready(mounted)
    m.expect_log(WARNINGS)
    want = expect_me(fake)
    waits = fsutil.status(m)["rate_limit_waits"]["count"]
    fake.fault("status", 1, env="prod2", endpoint="me", status=403, body=answer)
    assert fsutil.same_json(read(me_path(m)), want)
    assert api_calls(fake, endpoint="me", status=403) == 1
    assert api_calls(fake, endpoint="me", status=200) == 1
    assert api_calls(fake) == 2
    assert token_calls(fake) == 0
    assert fsutil.status(m)["rate_limit_waits"]["count"] > waits


def test_404_is_enoent_and_remembered(mounted):
    fake, m = ready(mounted)
    profiles = m.path / "prod2" / "profiles"
    unknown = profiles / ("f" * 24 + ".json")
    assert errno_of(lambda: read(unknown)) == errno.ENOENT
    assert api_calls(fake, endpoint="profile", status=404) == 1
    assert errno_of(lambda: read(unknown)) == errno.ENOENT
    assert api_calls(fake) == 1
    # a 404 the API gives for a profile it does have is believed as well
    fake.put_profile("prod2", {"id": "late_arrival", "profiles": []})
    fake.fault("status", 1, env="prod2", endpoint="profile", status=404,
               body=json.dumps({"data": None, "errors": [{"code": 404,
                                                          "message": "Profile not found"}]}))
    assert errno_of(lambda: read(profiles / "late_arrival.json")) == errno.ENOENT
    assert api_calls(fake, endpoint="profile", status=404) == 2
    assert api_calls(fake) == 2


@pytest.mark.parametrize("status, body", [
    (403, "Developer Inactive"),   # missing or unknown key
    (421, "Misdirected Request"),  # key of another environment
])
def test_key_refusal_is_eacces_without_retry(mounted, status, body):
    fake, m = ready(mounted)
    m.expect_log(r"\bprod2\b")
    fake.fault("status", FOREVER, env="prod2", endpoint="me", status=status,
               body=body)
    assert errno_of(lambda: read(me_path(m))) == errno.EACCES
    assert api_calls(fake, endpoint="me") == 1
    assert api_calls(fake) == 1
    assert token_calls(fake) == 0
    fsutil.wait_log(m, LOGIN_HINT)


def test_429_with_retry_after_waits_and_succeeds(mounted):
    fake, m = ready(mounted)
    m.expect_log(WARNINGS)
    want = expect_me(fake)
    waits = fsutil.status(m)["rate_limit_waits"]["count"]
    fake.fault("status", 1, env="prod2", endpoint="me", status=429,
               headers={"Retry-After": "1"}, body="Too Many Requests")
    assert fsutil.same_json(read(me_path(m)), want)
    assert api_calls(fake, endpoint="me", status=429) == 1
    assert api_calls(fake, endpoint="me", status=200) == 1
    assert api_calls(fake) == 2
    assert fsutil.status(m)["rate_limit_waits"]["count"] > waits


def test_429_in_the_middle_of_a_listing_is_waited_out(mounted):
    fake, m = mounted("-o", "page_size=10", profiles=50)
    m.expect_log(WARNINGS)
    fake.fault("status", 1, env="prod2", endpoint="search-next", status=429,
               headers={"Retry-After": "1"}, body="Too Many Requests")
    names = os.listdir(m.path / "prod2" / "profiles")
    assert sorted(names) == sorted(f"{p['id']}.json" for p in fake.profiles("prod2"))
    assert api_calls(fake, endpoint="search-next", status=429) == 1
    assert fsutil.calls_by_endpoint(fake) == {"search": 1, "search-next": 4 + 1}


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_is_retried_then_eio_after_the_retries(mounted, code):
    fake, m = ready(mounted, "-o", "retries=2")
    m.expect_log(r"\bprod2\b")
    want = expect_me(fake)
    body = json.dumps({"data": None, "errors": [{"code": code, "message": "upstream"}]})
    fake.fault("status", 2, env="prod2", endpoint="me", status=code, body=body)
    assert fsutil.same_json(read(me_path(m)), want)
    assert api_calls(fake, endpoint="me", status=code) == 2
    assert api_calls(fake, endpoint="me", status=200) == 1
    assert api_calls(fake) == 3
    fake.reset_counters()
    fake.fault("status", FOREVER, env="prod2", endpoint="accessible-clients",
               status=code, body=body)
    assert errno_of(lambda: read(m.path / "prod2" / "workspaces.json")) == errno.EIO
    assert api_calls(fake, endpoint="accessible-clients", status=code) == 3
    assert api_calls(fake) == 3
    fsutil.wait_log(m, r"sprinklrfs: (error|warning): .*prod2")


def test_5xx_with_default_retries_succeeds_on_the_fifth_attempt(mounted):
    fake, m = ready(mounted)
    m.expect_log(WARNINGS)
    want = expect_me(fake)
    fake.fault("status", 4, env="prod2", endpoint="me", status=503, body="unavailable")
    assert fsutil.same_json(read(me_path(m)), want)
    assert api_calls(fake, endpoint="me", status=503) == 4
    assert api_calls(fake, endpoint="me", status=200) == 1
    assert api_calls(fake) == 5
