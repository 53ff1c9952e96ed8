"""The fake's OAuth endpoints, gateway key checks and URL layout."""

import os
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakesprinklr.client import ApiClient  # noqa: E402
from fakesprinklr.fixtures import api, fake, wait_for  # noqa: E402,F401

ME = "/api/v2/me"


def test_authorize_redirects_with_code_and_state(api):
    reply = api.raw("GET", "/oauth/authorize?" + urlencode({
        "client_id": "sandbox-key", "response_type": "code",
        "redirect_uri": "http://localhost:8123/sprinklr/callback", "state": "xyz"}))
    assert reply.status == 302
    location = urlsplit(reply.headers["Location"])
    assert location.geturl().startswith("http://localhost:8123/sprinklr/callback?")
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and len(query["code"][0]) >= 20


def test_authorize_sends_literal_null_state_and_appends_to_query(fake, api):
    qa = ApiClient(fake, "qa4")
    reply = qa.raw("GET", "/oauth/authorize?" + urlencode({
        "client_id": "qa-key", "response_type": "code",
        "redirect_uri": "http://127.0.0.1:9000/cb?tenant=qa"}))
    assert reply.status == 302
    location = reply.headers["Location"]
    assert location.startswith("http://127.0.0.1:9000/cb?tenant=qa&code=")
    assert location.endswith("&state=null")
    qa.close()


def test_authorize_rejects_bad_requests(api):
    good = {"client_id": "sandbox-key", "response_type": "code",
            "redirect_uri": "http://localhost:8123/sprinklr/callback"}
    for change in ({"redirect_uri": "http://localhost:8123/sprinklr/callback/"},
                   {"redirect_uri": "http://evil.example/cb"}, {"client_id": "qa-key"},
                   {"client_id": "nope"}, {"response_type": "token"}):
        reply = api.raw("GET", "/oauth/authorize?" + urlencode(dict(good, **change)))
        assert reply.status == 400, change
        assert reply.headers["Content-Type"].startswith("text/plain")


def test_code_exchange_success_shape(fake, api):
    code = api.authorize()
    reply = api.token_request(grant_type="authorization_code", code=code)
    assert reply.status == 200
    assert reply.headers["SPR-TOKEN-VERSION"]
    body = reply.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) >= 40 and body["access_token"] != body["refresh_token"]
    assert fake.counters()["tokens_issued"]["prod2"] == 1


def test_code_is_single_use(fake, api):
    code = api.authorize()
    assert api.token_request(grant_type="authorization_code", code=code).status == 200
    again = api.token_request(grant_type="authorization_code", code=code)
    assert again.status == 400 and again.json()["error"] == "invalid_grant"
    assert fake.counters()["codes_reused"]["prod2"] == 1


def test_code_expires(fake, api):
    fake.configure(code_lifetime=0.2)
    code = api.authorize()
    time.sleep(0.3)
    reply = api.token_request(grant_type="authorization_code", code=code)
    assert reply.status == 400 and "expired" in reply.json()["error_description"]


def test_token_rejects_wrong_credentials(api):
    code = api.authorize()
    assert api.token_request(grant_type="authorization_code", code=code,
                             client_secret="wrong").status == 401
    assert api.token_request(grant_type="authorization_code", code=code,
                             redirect_uri="http://localhost:8123/other").status == 400
    assert api.token_request(grant_type="authorization_code", code="made-up").status == 400
    assert api.token_request(grant_type="password", code=code).status == 400
    assert api.token_request(grant_type="authorization_code", code=code,
                             client_id="qa-key").status == 421
    assert api.token_request(grant_type="authorization_code", code=code).status == 200


def test_token_params_in_query_string(api):
    code = api.authorize()
    query = urlencode({"client_id": "sandbox-key", "client_secret": "sandbox-secret",
                       "redirect_uri": "http://localhost:8123/sprinklr/callback",
                       "grant_type": "authorization_code", "code": code})
    reply = api.raw("POST", "/oauth/token?" + query, b"", {"Content-Length": "0"})
    assert reply.status == 200 and reply.json()["access_token"]


def test_token_without_content_length_is_411(fake, api):
    conn = fake.connect()
    conn.putrequest("POST", "/prod2/oauth/token?grant_type=authorization_code")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    resp.read()
    conn.close()


def test_token_form_needs_form_content_type(api):
    reply = api.raw("POST", "/oauth/token", b'{"grant_type": "authorization_code"}',
                    {"Content-Type": "application/json"})
    assert reply.status == 400 and reply.json()["error"] == "invalid_request"


def test_refresh_rotates_and_kills_old_tokens(fake, api):
    old_access, old_refresh = api.access_token, api.refresh_token
    api.refresh()
    assert api.access_token != old_access and api.refresh_token != old_refresh
    assert api.call("GET", ME).status == 200
    assert api.call("GET", ME, token=old_access).status == 401
    reused = api.token_request(grant_type="refresh_token", refresh_token=old_refresh)
    assert reused.status == 400 and reused.json()["error"] == "invalid_grant"
    assert fake.counters()["refresh_reused"]["prod2"] == 1
    assert api.call("GET", ME).status == 200


def test_new_code_grant_supersedes_tokens(fake, api):
    first_access, first_refresh = api.access_token, api.refresh_token
    other = ApiClient(fake, "prod2")
    other.login()
    assert api.call("GET", ME, token=first_access).status == 401
    reply = api.token_request(grant_type="refresh_token", refresh_token=first_refresh)
    assert reply.status == 400
    assert other.call("GET", ME).status == 200
    other.close()


def test_expires_in_as_string(fake, api):
    fake.configure(expires_in_string=True, token_lifetime=28799)
    assert api.login()["expires_in"] == "28799"


def test_access_token_expires(fake, api):
    fake.configure(token_lifetime=0.5)
    api.login()
    assert api.call("GET", ME).status == 200
    wait_for(lambda: api.call("GET", ME).status == 401, timeout=5)
    api.refresh()
    assert api.call("GET", ME).status == 200


def test_invalid_tokens_get_401_json(api):
    for token in ("", "garbage", "é-non-ascii"):
        reply = api.call("GET", ME, token=token)
        assert reply.status == 401
        assert reply.json() == {"data": [], "errors": [{"code": 401, "message": "Invalid Token"}]}
    reply = api.call("GET", ME, headers={"Authorization": "Basic abc"})
    assert reply.status == 401


def test_header_names_are_case_insensitive(api):
    reply = api.raw("GET", ME, headers={"key": "sandbox-key",
                                        "authorization": "bearer " + api.access_token})
    assert reply.status == 200


def test_control_expire_revoke_grant_tokens(fake, api):
    fake.expire_token("prod2")
    assert api.call("GET", ME).status == 401
    api.refresh()
    fake.revoke("prod2")
    assert api.call("GET", ME).status == 401
    assert api.token_request(grant_type="refresh_token",
                             refresh_token=api.refresh_token).status == 400
    granted = fake.grant("prod2")
    assert api.call("GET", ME, token=granted["access_token"]).status == 200
    report = fake.tokens("prod2")
    assert report["current"]["access_token"] == granted["access_token"]
    assert granted["refresh_token"] in report["issued"] and api.access_token in report["issued"]


def test_key_checks(fake, api):
    assert api.call("GET", ME, key="").text() == "Developer Inactive"
    reply = api.call("GET", ME, key="unknown-key")
    assert reply.status == 403 and reply.text() == "Developer Inactive"
    reply = api.raw("GET", ME, headers={"Authorization": "Bearer " + api.access_token})
    assert reply.status == 403
    assert api.call("GET", ME, key="qa-key").status == 421
    assert api.call("GET", ME).status == 200


def test_prod_has_no_path_segment(fake, api):
    prod = ApiClient(fake, "prod")
    assert prod.prefix == ""
    prod.login()
    assert prod.call("GET", ME).status == 200
    assert prod.raw("GET", "/prod" + ME, headers={"Key": "prod-key"}).status == 404
    assert api.raw("GET", "//api/v2/me").status == 404
    assert api.call("GET", ME, key="prod-key").status == 421
    assert fake.calls("prod", "me", 200) == 1
    prod.close()


def test_unknown_paths_and_methods(fake, api):
    assert api.call("GET", "/api/v2/nothing").status == 404
    assert api.call("GET", "/api/v2/me/").status == 404
    assert api.raw("GET", "/../qa5/api/v2/me").status == 404
    assert api.call("DELETE", ME).status == 405
    assert api.call("GET", "/oauth/token").status == 405
