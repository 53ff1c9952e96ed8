"""OAuth 2.0: authorization codes, rotating token sets and the two endpoints.

Each environment has one application (one key) and therefore one live token
set: a code exchange, a refresh or a control-issued grant replaces it and
kills the tokens before it.  Codes and refresh tokens are good for one use.
Every token ever issued is remembered so tests can look for leaks.
"""

import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode

from fakesprinklr.messages import Response, json_response, text_response

TOKEN_VERSION = "2"
FORM_TYPE = "application/x-www-form-urlencoded"


def _same(given, secret):
    """Constant-time comparison of two str values (any characters)."""
    return secrets.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


class TokenBook:
    """Codes and tokens of one environment."""

    def __init__(self, env, config, counters):
        self.env = env
        self.config = config
        self.counters = counters
        self.lock = threading.Lock()
        self.codes = {}        # protected by lock: code -> [expiry, used]
        self.current = None    # protected by lock: {"access", "refresh", "expires", "expires_at"}
        self.issued = []       # protected by lock: every access and refresh token
        self.refreshes = set()  # protected by lock: every refresh token

    def new_code(self):
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = [time.monotonic() + self.config.code_lifetime, False]
        return code

    def redeem_code(self, code):
        """None when the code was good (now used), else why not."""
        with self.lock:
            entry = self.codes.get(code)
            if entry is None:
                return "unknown authorization code"
            if entry[1]:
                self.counters.event("codes_reused", self.env.name)
                return "authorization code already used"
            entry[1] = True
            if time.monotonic() >= entry[0]:
                return "authorization code expired"
            return None

    def rotate(self, refresh):
        """None when refresh is the live refresh token (now dead), else why not."""
        with self.lock:
            if self.current is not None and _same(refresh, self.current["refresh"]):
                self.current = None
                return None
            if refresh in self.refreshes:
                self.counters.event("refresh_reused", self.env.name)
                return "refresh token already used or revoked"
            return "unknown refresh token"

    def issue(self):
        """A fresh token set that supersedes all earlier tokens."""
        lifetime = self.config.token_lifetime
        entry = {"access": secrets.token_urlsafe(36), "refresh": secrets.token_urlsafe(36),
                 "expires": time.monotonic() + lifetime, "expires_at": time.time() + lifetime}
        with self.lock:
            self.current = entry
            self.issued.extend((entry["access"], entry["refresh"]))
            self.refreshes.add(entry["refresh"])
        self.counters.event("tokens_issued", self.env.name)
        expires_in = int(lifetime)
        return {"access_token": entry["access"], "refresh_token": entry["refresh"],
                "token_type": "Bearer",
                "expires_in": str(expires_in) if self.config.expires_in_string else expires_in}

    def valid(self, access):
        with self.lock:
            cur = self.current
            return (cur is not None and _same(access, cur["access"])
                    and time.monotonic() < cur["expires"])

    def expire(self):
        with self.lock:
            if self.current is not None:
                self.current["expires"] = time.monotonic()
                self.current["expires_at"] = time.time()

    def revoke(self):
        with self.lock:
            self.current = None

    def report(self):
        with self.lock:
            cur = self.current
            current = None if cur is None else {
                "access_token": cur["access"], "refresh_token": cur["refresh"],
                "expires_at": cur["expires_at"], "expired": time.monotonic() >= cur["expires"]}
            return {"current": current, "issued": list(self.issued)}


def authorize(state, req):
    """GET /oauth/authorize: redirect at once with a fresh code."""
    env, query = state.env, req.query
    if query.get("client_id") != env.key:
        return text_response(400, "Invalid client_id")
    if query.get("response_type") != "code":
        return text_response(400, "Unsupported response_type")
    if query.get("redirect_uri") != env.redirect_uri:
        return text_response(400, "redirect_uri does not match the registered one")
    code = state.tokens.new_code()
    params = urlencode({"code": code, "state": query.get("state", "null")})
    sep = "&" if "?" in env.redirect_uri else "?"
    return Response(302, headers={"Location": env.redirect_uri + sep + params,
                                  "Cache-Control": "no-store"})


def token(state, req, key_env):
    """POST /oauth/token with either grant."""
    params, problem = _token_params(req)
    if problem is not None:
        return problem
    env = state.env
    client = params.get("client_id", "")
    if client != env.key and key_env(client) is not None:
        return text_response(421, "Misdirected Request")
    if client != env.key or not _same(params.get("client_secret", ""), env.secret):
        return _grant_error(401, "invalid client credentials")
    if params.get("redirect_uri") != env.redirect_uri:
        return _grant_error(400, "redirect_uri mismatch")
    grant = params.get("grant_type")
    if grant == "authorization_code":
        why = state.tokens.redeem_code(params.get("code", ""))
    elif grant == "refresh_token":
        why = state.tokens.rotate(params.get("refresh_token", ""))
    else:
        return json_response(400, {"error": "unsupported_grant_type",
                                   "error_description": "grant_type must be authorization_code "
                                                        "or refresh_token"})
    if why is not None:
        return _grant_error(400, why)
    return json_response(200, state.tokens.issue(),
                         {"SPR-TOKEN-VERSION": TOKEN_VERSION, "Cache-Control": "no-store",
                          "Pragma": "no-cache"})


def _token_params(req):
    """(params, None) from query string and form body, or (None, error response)."""
    if not req.has_length:
        return None, text_response(411, "Length Required")
    params = dict(req.query)
    if req.body:
        if req.content_type() != FORM_TYPE:
            return None, json_response(400, {"error": "invalid_request",
                                             "error_description": "expected " + FORM_TYPE})
        try:
            form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None, json_response(400, {"error": "invalid_request",
                                             "error_description": "malformed form body"})
        params.update({k: v[0] for k, v in form.items()})
    return params, None


def _grant_error(status, why):
    return json_response(status, {"error": "invalid_grant", "error_description": why})
