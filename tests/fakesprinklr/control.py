"""The /_fake/ control interface: counters, settings, data, tokens, faults.

No authentication, never rate limited or counted.  JSON in and out, except
the full profile listing, which is streamed as NDJSON sorted by id.

    GET  counters                 POST counters/reset        POST limits/reset
    GET  config                   POST config {setting: value, ...}
    GET  envs                     GET  envs/ENV/profiles (NDJSON)
    GET|PUT|PATCH|DELETE envs/ENV/profiles/ID   (PUT ?keep_time=1 keeps modifiedTime)
    PUT  envs/ENV/profiles        (id taken from the body)
    POST envs/ENV/touch {"count": n} | {"ids": [...]}
    POST envs/ENV/tokens/expire   POST envs/ENV/tokens/revoke
    POST envs/ENV/grant           GET  envs/ENV/tokens
    POST faults {kind, count, endpoint, env, status, body, headers, seconds}
    GET  faults                   DELETE faults
"""

import heapq
from urllib.parse import unquote

from fakesprinklr.config import ConfigError
from fakesprinklr.data import CITIES
from fakesprinklr.faults import FaultError
from fakesprinklr.messages import Response, encode, json_response

PREFIX = "/_fake/"
NDJSON_TYPE = "application/x-ndjson;charset=UTF-8"
CHUNK = 1 << 16


class ControlError(Exception):
    """A control call answered with an error status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def handle(app, req):
    """The Response to a control request."""
    parts = [unquote(p) for p in req.path[len(PREFIX):].split("/")]
    try:
        return _dispatch(app, req, parts)
    except ControlError as err:
        return json_response(err.status, {"error": str(err)})
    except (ConfigError, FaultError) as err:
        return json_response(400, {"error": str(err)})


def _dispatch(app, req, parts):
    route = (req.method, parts[0], len(parts))
    if parts[0] == "envs" and len(parts) >= 2:
        return _env_call(app, req, _env(app, parts[1]), parts[2:])
    simple = {("GET", "counters", 1): lambda: app.counters.snapshot(),
              ("POST", "counters", 2): lambda: _reset_counters(app, parts),
              ("GET", "config", 1): app.config.as_dict,
              ("POST", "config", 1): lambda: _configure(app, req),
              ("GET", "envs", 1): lambda: [s.env.as_dict() for s in app.envs.values()],
              ("POST", "faults", 1): lambda: _add_fault(app, req),
              ("DELETE", "faults", 1): lambda: _clear_faults(app),
              ("GET", "faults", 1): lambda: {"pending": app.faults.pending()},
              ("POST", "limits", 2): lambda: _reset_limits(app, parts)}
    if route not in simple:
        raise ControlError(404, "no such control call")
    return json_response(200, simple[route]())


def _body(req):
    try:
        return req.json() if req.body else {}
    except (UnicodeDecodeError, ValueError):
        raise ControlError(400, "body is not JSON") from None


def _reset_counters(app, parts):
    if parts[1] != "reset":
        raise ControlError(404, "no such control call")
    app.counters.reset()
    return {"ok": True}


def _reset_limits(app, parts):
    if parts[1] != "reset":
        raise ControlError(404, "no such control call")
    app.limiter.reset()
    return {"ok": True}


def _configure(app, req):
    app.config.update(_body(req))
    return app.config.as_dict()


def _add_fault(app, req):
    app.faults.add(_body(req))
    return {"pending": app.faults.pending()}


def _clear_faults(app):
    app.faults.clear()
    return {"pending": 0}


def _env(app, name):
    if name not in app.envs:
        raise ControlError(404, "no such environment: %s" % name)
    return app.envs[name]


# --- per-environment calls ----------------------------------------------------

def _env_call(app, req, state, rest):
    call = (req.method, tuple(rest))
    if call == ("GET", ("profiles",)):
        return Response(200, _ndjson(state.store), NDJSON_TYPE)
    if rest[:1] == ["profiles"] and len(rest) <= 2:
        return _profile_call(req, state, rest[1] if len(rest) == 2 else None)
    actions = {("POST", ("touch",)): lambda: _touch(state, _body(req)),
               ("POST", ("tokens", "expire")): lambda: _tokens_do(state.tokens.expire),
               ("POST", ("tokens", "revoke")): lambda: _tokens_do(state.tokens.revoke),
               ("POST", ("grant",)): state.tokens.issue,
               ("GET", ("tokens",)): state.tokens.report}
    if call not in actions:
        raise ControlError(404, "no such control call")
    return json_response(200, actions[call]())


def _tokens_do(action):
    action()
    return {"ok": True}


def _profile_call(req, state, pid):
    store = state.store
    if req.method == "GET" and pid is not None:
        found = store.get(pid)
        if found is None:
            raise ControlError(404, "no such profile")
        return json_response(200, found)
    if req.method == "PUT":
        return json_response(200, _put(req, store, pid))
    if req.method == "PATCH" and pid is not None:
        return json_response(200, _patch(req, store, pid))
    if req.method == "DELETE" and pid is not None:
        if not store.delete(pid):
            raise ControlError(404, "no such profile")
        return json_response(200, {"deleted": pid})
    raise ControlError(405, "method not allowed here")


def _keep_time(req, body):
    return req.query.get("keep_time") in ("1", "true") and "modifiedTime" in body


def _put(req, store, pid):
    body = _body(req)
    if not isinstance(body, dict):
        raise ControlError(400, "profile must be a JSON object")
    pid = pid if pid is not None else body.get("id")
    if not isinstance(pid, str):
        raise ControlError(400, "profile id missing")
    body.setdefault("id", pid)
    with store.lock:
        if not _keep_time(req, body):
            body["modifiedTime"] = store.fresh_time()
        store.put(pid, body)
    return body


def _patch(req, store, pid):
    changes = _body(req)
    if not isinstance(changes, dict):
        raise ControlError(400, "changes must be a JSON object")
    with store.lock:
        current = store.get(pid)
        if current is None:
            raise ControlError(404, "no such profile")
        merged = dict(current, **changes)
        if not _keep_time(req, changes):
            merged["modifiedTime"] = store.fresh_time()
        store.put(pid, merged)
    return merged


def _touch(state, body):
    store = state.store
    if not isinstance(body, dict) or ("count" in body) == ("ids" in body):
        raise ControlError(400, "give either count or ids")
    with store.lock:
        ids = store.oldest_ids(_count(body["count"])) if "count" in body else body["ids"]
        missing = [pid for pid in ids if not isinstance(pid, str) or not store.exists(pid)]
        if missing:
            raise ControlError(404, "no such profile: %s" % missing[0])
        when = store.fresh_time()
        for pid in ids:
            store.put(pid, _touched(store.get(pid), when))
    return {"ids": ids}


def _count(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError(400, "count must be a non-negative integer")
    return value


def _touched(profile, when):
    """profile (a fresh copy) with a new contact city and modifiedTime."""
    out = profile
    contact = out.get("contact")
    if not isinstance(contact, dict):
        contact = out["contact"] = {}
    address = contact.get("address")
    if not isinstance(address, dict):
        address = contact["address"] = {}
    cities = [c for c, _ in CITIES]
    current = address.get("city")
    address["city"] = cities[(cities.index(current) + 1) % len(cities)] if current in cities else cities[0]
    out["modifiedTime"] = when
    return out


def _ndjson(store):
    """All live profiles sorted by id, as NDJSON chunks."""
    base, overlay = store.snapshot_ids()
    codec, gen = store.gen.codec, store.gen
    base_ids = ("%024x" % value for value in base)
    extra = sorted(pid for pid in overlay if codec.profile_index(pid) is None)
    buffer = []
    size = 0
    for pid in heapq.merge(base_ids, extra):
        if pid in overlay:
            if overlay[pid] is None:
                continue
            line = overlay[pid] + b"\n"
        else:
            line = encode(gen.profile(codec.profile_index(pid))) + b"\n"
        buffer.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)
