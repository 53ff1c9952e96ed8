"""A small keep-alive API client for tests of (and with) the fake.

It speaks to one environment of a running Fake exactly as a Sprinklr client
would: the browser-less login flow, then calls with Key and Bearer headers.
"""

import json
from urllib.parse import parse_qs, urlencode, urlsplit


class Reply:
    """Status, headers and body of one answer."""

    def __init__(self, resp, body):
        self.status = resp.status
        self.headers = resp.headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8")


class ApiClient:
    """Calls against fake.api_url(env) over one reusable connection."""

    def __init__(self, fake, env, timeout=30):
        self.fake = fake
        self.settings = fake.env(env)
        self.prefix = urlsplit(fake.api_url(env)).path
        self.timeout = timeout
        self.conn = None
        self.access_token = None
        self.refresh_token = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def raw(self, method, path, body=None, headers=None):
        """One request to prefix + path; reconnects if the server closed."""
        if self.conn is None:
            self.conn = self.fake.connect(self.timeout)
        try:
            self.conn.request(method, self.prefix + path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            reply = Reply(resp, resp.read())
        except Exception:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return reply

    def call(self, method, path, body=None, headers=None, key=None, token=None):
        """An authenticated API call; body (not bytes) is sent as JSON."""
        hdrs = {"Key": key if key is not None else self.settings["key"],
                "Authorization": "Bearer %s" % (token if token is not None else self.access_token),
                "Accept": "application/json"}
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return self.raw(method, path, body, hdrs)

    def authorize(self, state=None, redirect_uri=None, client_id=None):
        """The code from the authorize redirect (raises on a non-302)."""
        params = {"client_id": client_id or self.settings["key"], "response_type": "code",
                  "redirect_uri": redirect_uri or self.settings["redirect_uri"]}
        if state is not None:
            params["state"] = state
        reply = self.raw("GET", "/oauth/authorize?" + urlencode(params))
        if reply.status != 302:
            raise AssertionError("authorize answered %d" % reply.status)
        location = reply.headers["Location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    def token_request(self, **params):
        """POST /oauth/token with the app's credentials plus params (form body)."""
        form = {"client_id": self.settings["key"], "client_secret": self.settings["secret"],
                "redirect_uri": self.settings["redirect_uri"]}
        form.update(params)
        return self.raw("POST", "/oauth/token", urlencode(form).encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})

    def login(self):
        """Authorize, exchange the code and keep the tokens; returns the token JSON."""
        code = self.authorize()
        reply = self.token_request(grant_type="authorization_code", code=code)
        if reply.status != 200:
            raise AssertionError("token exchange answered %d" % reply.status)
        return self._keep(reply.json())

    def refresh(self):
        reply = self.token_request(grant_type="refresh_token", refresh_token=self.refresh_token)
        if reply.status != 200:
            raise AssertionError("refresh answered %d" % reply.status)
        return self._keep(reply.json())

    def _keep(self, tokens):
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]
        return tokens

    def search(self, body):
        return self.call("POST", "/api/v2/search/PROFILE", body)

    def next_page(self, cursor):
        token = cursor.split("=", 1)[1] if cursor.startswith("id=") else cursor
        return self.call("GET", "/api/v2/search/PROFILE?" + urlencode({"id": token}))

    def search_all(self, body):
        """Every result of a search, following cursors; returns (results, pages)."""
        reply = self.search(body)
        results, pages = [], 0
        while True:
            assert reply.status == 200, (reply.status, reply.body[:200])
            data = reply.json()["data"]
            results.extend(data["results"])
            pages += 1
            if not data.get("cursor"):
                return results, pages
            reply = self.next_page(data["cursor"])
