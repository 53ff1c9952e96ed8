"""Fault injection: statuses, latency, resets, truncation, garbage, hangs, trickles."""

import http.client
import json
import os
import socket
import ssl
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakesprinklr.client import ApiClient  # noqa: E402
from fakesprinklr.fixtures import api, fake  # noqa: E402,F401
from fakesprinklr.launcher import FakeError  # noqa: E402

ME = "/api/v2/me"
BROKEN = (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError)
TIMED_OUT = "timed out"


def raw_me(fake, api, timeout=5):
    """(bytes received, how it ended) for GET me on a fresh connection: None
    when the answer was whole or the server closed the connection, TIMED_OUT
    when nothing came for timeout seconds, else the exception."""
    sock = socket.create_connection((fake.host, fake.port), timeout=timeout)
    sock = fake.ssl_context().wrap_socket(sock, server_hostname=fake.host)
    request = ("GET /prod2/api/v2/me HTTP/1.1\r\nHost: x\r\nKey: sandbox-key\r\n"
               "Authorization: Bearer %s\r\n\r\n" % api.access_token)
    sock.sendall(request.encode())
    data, error = b"", None
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
    except TimeoutError:        # an OSError: before BROKEN
        error = TIMED_OUT
    except BROKEN as err:
        error = err
    sock.close()
    return data, error


def test_status_fault_for_next_n_calls(fake, api):
    fake.fault("status", count=2, endpoint="me", status=503, body="try later",
               headers={"Retry-After": "7"})
    assert api.call("POST", "/api/v2/search/PROFILE", {"page": {"size": 1}}).status == 200
    for _ in range(2):
        reply = api.call("GET", ME)
        assert reply.status == 503 and reply.text() == "try later"
        assert reply.headers["Retry-After"] == "7"
    assert api.call("GET", ME).status == 200
    assert fake.counters()["calls"]["prod2"]["me"] == {"503": 2, "200": 1}


def test_faults_are_fifo_and_targeted(fake, api):
    fake.fault("status", status=500, env="prod")
    fake.fault("status", status=502, endpoint="me")
    fake.fault("status", status=504)
    assert api.call("GET", ME).status == 502
    assert api.call("GET", "/api/v2/client/accessible-clients").status == 504
    assert api.call("GET", ME).status == 200
    assert fake.control("GET", "faults") == {"pending": 1}
    fake.clear_faults()
    assert fake.control("GET", "faults") == {"pending": 0}


def test_oauth_endpoints_can_fail(fake, api):
    fake.fault("status", endpoint="token", status=500, body='{"error": "server_error"}')
    reply = api.token_request(grant_type="refresh_token", refresh_token=api.refresh_token)
    assert reply.status == 500 and reply.json()["error"] == "server_error"
    api.refresh()
    assert fake.calls("prod2", "token") == 2


def test_latency_fault_then_normal_answer(fake, api):
    fake.fault("latency", endpoint="me", seconds=0.3)
    start = time.monotonic()
    assert api.call("GET", ME).status == 200
    assert time.monotonic() - start >= 0.3


def test_global_latency_setting(fake, api):
    fake.configure(latency=0.2)
    start = time.monotonic()
    assert api.call("GET", ME).status == 200
    assert time.monotonic() - start >= 0.2
    fake.counters()


def test_reset_fault(fake, api):
    fake.fault("reset", endpoint="me")
    with pytest.raises(BROKEN):
        api.call("GET", ME)
    assert api.call("GET", ME).status == 200
    assert fake.counters()["calls"]["prod2"]["me"] == {"reset": 1, "200": 1}


def test_truncate_fault(fake, api):
    fake.fault("truncate", endpoint="me")
    data, _ = raw_me(fake, api)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    assert head.startswith(b"HTTP/1.1 200") and 0 < len(body) < length
    with pytest.raises(ValueError):
        json.loads(body)
    assert fake.calls("prod2", "me", "truncate") == 1


def test_malformed_fault(fake, api):
    fake.fault("malformed", endpoint="search")
    reply = api.search({"page": {"size": 5}})
    assert reply.status == 200
    with pytest.raises(ValueError):
        reply.json()
    assert api.search({"page": {"size": 5}}).json()["errors"] == []
    assert fake.calls("prod2", "search", "malformed") == 1


def test_hang_fault_blocks_only_its_connection(fake, api):
    fake.fault("hang", endpoint="me", seconds=30)
    hung = ApiClient(fake, "prod2", timeout=0.3)
    hung.access_token = api.access_token
    with pytest.raises(TimeoutError):
        hung.call("GET", ME)
    assert api.call("GET", ME).status == 200
    assert fake.calls("prod2", "me", "hang") == 1


def test_hang_fault_closes_after_its_time(fake, api):
    fake.fault("hang", endpoint="me", seconds=0.2)
    data, error = raw_me(fake, api, timeout=5)
    assert error is None, "the fake kept the connection open past its time"
    assert data == b""


def test_trickle_fault(fake, api):
    fake.fault("trickle", endpoint="me", seconds=0.002)
    start = time.monotonic()
    data, error = raw_me(fake, api)
    assert error is None and data.startswith(b"HTTP/1.1 200")
    assert time.monotonic() - start >= (len(data) - 1) * 0.002
    assert json.loads(data.partition(b"\r\n\r\n")[2])["data"]["name"] == "Ada Admin"


def test_bad_fault_specs_are_rejected(fake):
    for spec in ({"kind": "explode"}, {"kind": "status", "count": -1},
                 {"kind": "latency", "seconds": "slow"}):
        with pytest.raises(FakeError) as err:
            fake.control("POST", "faults", spec)
        assert err.value.status == 400
