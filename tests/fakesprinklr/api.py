"""The API gateway checks and the v2/v1 endpoint handlers.

``handle`` answers one routed call the way Sprinklr's gateway does: the Key
first (403 Developer Inactive, 421 for another environment's key), then the
rate limits, then the bearer token (401), then the request itself.
"""

from fakesprinklr import oauth, search
from fakesprinklr.messages import json_response, text_response, v2, v2_error

BOOTSTRAP_TYPES = ("PARTNER_PROFILE_LISTS", "CLIENT_PROFILE_LISTS", "PROFILE_CUSTOM_FIELDS")
OVER = {"second": "Developer Over Qps", "hour": "Developer Over Rate"}


def handle(app, route, req):
    """The Response to a routed call of an existing endpoint."""
    state = app.envs[route.env]
    if route.allowed:
        return text_response(405, "Method Not Allowed", {"Allow": ", ".join(route.allowed)})
    if route.endpoint == "authorize":
        return oauth.authorize(state, req)
    if route.endpoint == "token":
        return oauth.token(state, req, app.env_of_key)
    denial, limit_headers = _gate(app, state, req)
    if denial is not None:
        return denial
    response = HANDLERS[route.endpoint](app, state, req, route.arg)
    response.headers.update(limit_headers)
    return response


def _gate(app, state, req):
    """(denial or None, rate-limit headers) for the gateway checks."""
    key = req.header("Key")
    owner = app.env_of_key(key) if key else None
    if owner is None:
        return text_response(403, "Developer Inactive"), {}
    if owner is not state:
        return text_response(421, "Misdirected Request"), {}
    verdict = app.limiter.check(key)
    if not verdict.allowed:
        app.counters.event("throttled", state.env.name)
        headers = {"Retry-After": str(verdict.retry_after)} if verdict.status == 429 else {}
        return text_response(verdict.status, OVER[verdict.window], headers), {}
    if not state.tokens.valid(_bearer(req)):
        return v2_error(401, "Invalid Token", []), verdict.headers
    if req.body and req.content_type() != "application/json":
        return v2_error(400, "Content-Type must be application/json"), verdict.headers
    return None, verdict.headers


def _bearer(req):
    scheme, _, value = (req.header("Authorization") or "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def me(app, state, req, arg):
    return v2(state.catalog.me())


def accessible_clients(app, state, req, arg):
    return v2(state.catalog.workspaces())


def search_first(app, state, req, arg):
    if req.content_type() != "application/json":
        return v2_error(400, "Content-Type must be application/json")
    try:
        body = req.json()
    except (UnicodeDecodeError, ValueError):
        return v2_error(400, "request body is not valid JSON")
    try:
        config = app.config
        query, start, size = search.parse_request(body, config.max_page_size,
                                                  config.max_page_size_answer,
                                                  config.tie_order, config.numeric_strings)
    except search.SearchError as err:
        return v2_error(400, str(err))
    return _page(app, state, query, query.start_key(), start, size)


def search_next(app, state, req, arg):
    token = req.query.get("id")
    if not token:
        return v2_error(400, "missing cursor id")
    try:
        query, key, size = app.cursors.resolve(state.env.name, token)
    except search.CursorExpired as err:
        return v2_error(app.config.cursor_expired_status, str(err))
    except search.SearchError as err:
        return v2_error(400, str(err))
    return _page(app, state, query, key, 0, size)


def _page(app, state, query, key, skip, size):
    config = app.config
    results, last, more = search.run_page(state.store, query, key, skip, size,
                                          config.short_pages, config.empty_last_page)
    data = {"results": results}
    if more:
        token = app.cursors.issue(state.env.name, query, last, size, app.config.cursor_lifetime)
        data["cursor"] = "id=" + token
    return v2(data)


def profile(app, state, req, arg):
    found = state.store.get(arg)
    return v2(found) if found is not None else v2_error(404, "Profile not found")


def profile_by_channel(app, state, req, arg):
    kind, cid = req.query.get("snType"), req.query.get("snUserId")
    if not kind or not cid:
        return v2_error(400, "snType and snUserId are required")
    found = state.store.by_channel(kind, cid)
    return v2(found) if found is not None else v2_error(404, "Profile not found")


def bootstrap(app, state, req, arg):
    types = [t.strip() for t in req.query.get("types", "").split(",") if t.strip()]
    unknown = [t for t in types if t not in BOOTSTRAP_TYPES]
    if not types or unknown:
        return json_response(400, {"errors": [{"code": 400, "message": "unknown or missing types: %s"
                                               % ",".join(unknown)}]})
    cat, out = state.catalog, {}
    for kind in types:
        if kind == "PARTNER_PROFILE_LISTS":
            out[kind] = cat.partner_lists()
        elif kind == "CLIENT_PROFILE_LISTS":
            out[kind] = cat.client_lists(req.query.get("clientId") or None)
        else:
            out[kind] = cat.custom_fields()
    return json_response(200, out)


HANDLERS = {"me": me, "accessible-clients": accessible_clients, "search": search_first,
            "search-next": search_next, "profile": profile,
            "profile-by-channel": profile_by_channel, "bootstrap": bootstrap}
