"""Search filters: validation, evaluation and the modifiedTime window.

``compile_filter`` turns the JSON filter of a search request into a
predicate over profile dicts, raising FilterError (a 400) for anything the
service would reject: numeric keys take JSON numbers (a numeric string is
refused unless the ``numeric_strings`` tunable allows it).  ``time_window`` extracts the modifiedTime bounds that
every match must satisfy, so a search can bisect instead of scanning.
"""

GROUPS = ("AND", "OR", "NOT")
LEAVES = ("IN", "NIN", "EQUALS", "NOT_EQUALS", "LT", "LTE", "GT", "GTE", "CONTAINS")
NUMERIC_KEYS = ("createdTime", "modifiedTime", "profileWorkflow.profileLists",
                "profileWorkflow.profileSpaceWorkflows.profileLists")
STRING_KEYS = ("id", "channelType", "channelId", "contact.email", "contact.phoneNo")
CUSTOM_PREFIX = "profileWorkflow.customProperties."
INFINITY = 1 << 62


class FilterError(ValueError):
    """A filter the service rejects with 400."""


def compile_filter(spec, numeric_strings=False):
    """A predicate profile -> bool for the filter spec (None matches all)."""
    if spec is None:
        return lambda profile: True
    if not isinstance(spec, dict):
        raise FilterError("filter must be an object")
    kind = spec.get("type")
    if kind in GROUPS:
        return _compile_group(kind, spec, numeric_strings)
    if kind in LEAVES:
        return _compile_leaf(kind, spec, numeric_strings)
    raise FilterError("unknown filter type: %r" % (kind,))


def _compile_group(kind, spec, numeric_strings):
    subs = spec.get("filters")
    if not isinstance(subs, list) or not subs:
        raise FilterError("%s needs a non-empty filters array" % kind)
    preds = [compile_filter(s, numeric_strings) for s in subs]
    if kind == "AND":
        return lambda p: all(f(p) for f in preds)
    if kind == "OR":
        return lambda p: any(f(p) for f in preds)
    return lambda p: not any(f(p) for f in preds)


def _compile_leaf(kind, spec, numeric_strings):
    key, values = spec.get("key"), spec.get("values")
    if not isinstance(key, str):
        raise FilterError("%s needs a key" % kind)
    if not isinstance(values, list) or not values:
        raise FilterError("%s needs a non-empty values array" % kind)
    extract = _extractor(key)
    numeric = key in NUMERIC_KEYS
    wanted = [_coerce(v, numeric, key, numeric_strings) for v in values]
    test = _leaf_test(kind, wanted, numeric)
    return lambda p: test(extract(p))


def _leaf_test(kind, wanted, numeric):
    wanted_set = set(wanted)
    bound = wanted[0]
    if kind in ("IN", "EQUALS"):
        return lambda have: any(h in wanted_set for h in have)
    if kind in ("NIN", "NOT_EQUALS"):
        return lambda have: not any(h in wanted_set for h in have)
    if kind == "CONTAINS":
        needles = [str(w).lower() for w in wanted]
        return lambda have: any(n in str(h).lower() for h in have for n in needles)
    compare = {"LT": lambda h: h < bound, "LTE": lambda h: h <= bound,
               "GT": lambda h: h > bound, "GTE": lambda h: h >= bound}[kind]
    return lambda have: any(compare(h) for h in have if isinstance(h, type(bound)))


def _coerce(value, numeric, key, numeric_strings):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FilterError("bad value for %s: %r" % (key, value))
    if not numeric:
        return str(value)
    if isinstance(value, str) and not numeric_strings:
        raise FilterError("%s needs numbers, got the string %r" % (key, value))
    try:
        return int(value)
    except ValueError:
        raise FilterError("%s needs numeric values, got %r" % (key, value)) from None


def _extractor(key):
    simple = {"id": lambda p: [p.get("id")],
              "createdTime": lambda p: [p.get("createdTime")],
              "modifiedTime": lambda p: [p.get("modifiedTime")],
              "channelType": lambda p: [c.get("channelType") for c in _channels(p)],
              "channelId": lambda p: [c.get("channelId") for c in _channels(p)],
              "contact.email": lambda p: [_dict(p.get("contact")).get("email")],
              "contact.phoneNo": lambda p: [_dict(p.get("contact")).get("phoneNo")],
              "profileWorkflow.profileLists": _partner_lists,
              "profileWorkflow.profileSpaceWorkflows.profileLists": _space_lists}
    if key in simple:
        getter = simple[key]
        return lambda p: [v for v in getter(p) if v is not None]
    if key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX):
        name = key[len(CUSTOM_PREFIX):]
        return lambda p: _list(_dict(_dict(p.get("profileWorkflow")).get("customProperties")).get(name))
    raise FilterError("unknown filter key: %r" % key)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _channels(profile):
    return [c for c in _list(profile.get("profiles")) if isinstance(c, dict)]


def _partner_lists(profile):
    return _list(_dict(profile.get("profileWorkflow")).get("profileLists"))


def _space_lists(profile):
    spaces = _list(_dict(profile.get("profileWorkflow")).get("profileSpaceWorkflows"))
    return [lid for s in spaces if isinstance(s, dict) for lid in _list(s.get("profileLists"))]


def time_window(spec):
    """(low, high) inclusive modifiedTime bounds implied by the filter."""
    low, high = -INFINITY, INFINITY
    if not isinstance(spec, dict):
        return low, high
    if spec.get("type") == "AND":
        for sub in spec.get("filters") or []:
            sub_low, sub_high = time_window(sub)
            low, high = max(low, sub_low), min(high, sub_high)
        return low, high
    if spec.get("type") == "OR" and spec.get("filters"):
        windows = [time_window(sub) for sub in spec["filters"]]
        return min(w[0] for w in windows), max(w[1] for w in windows)
    if spec.get("key") != "modifiedTime" or not spec.get("values"):
        return low, high
    value = int(spec["values"][0])
    kind = spec.get("type")
    bounds = {"GT": (value + 1, high), "GTE": (value, high), "LT": (low, value - 1),
              "LTE": (low, value)}
    if kind == "EQUALS" and len(spec["values"]) == 1:
        return value, value
    return bounds.get(kind, (low, high))
