"""Mapping of request paths to (environment, endpoint name, path arguments).

``prod`` is served without a path segment, every other environment under
``/{env}/``.  Endpoint names are the ones counters and faults use.
"""

from urllib.parse import unquote

ENDPOINTS = {
    ("oauth", "authorize"): {"GET": "authorize"},
    ("oauth", "token"): {"POST": "token"},
    ("api", "v2", "me"): {"GET": "me"},
    ("api", "v2", "client", "accessible-clients"): {"GET": "accessible-clients"},
    ("api", "v2", "search", "PROFILE"): {"POST": "search", "GET": "search-next"},
    ("api", "v2", "profile"): {"GET": "profile-by-channel"},
    ("api", "v1", "bootstrap", "resources"): {"GET": "bootstrap"},
}
UNKNOWN = "unknown"


class Route:
    """Where a request goes; endpoint is UNKNOWN for paths that do not exist."""

    def __init__(self, env, endpoint, arg=None, allowed=None):
        self.env = env
        self.endpoint = endpoint
        self.arg = arg
        self.allowed = allowed    # methods of the path when the method is wrong


def resolve(envs, method, path):
    """The Route of method + path against the configured environment names."""
    segments = path.split("/")[1:]
    env = None
    if segments and segments[0] in envs and segments[0] != "prod":
        env, segments = segments[0], segments[1:]
    elif "prod" in envs:
        env = "prod"
    if env is None or not all(segments):
        return Route(env, UNKNOWN)
    return _endpoint(env, method, tuple(segments))


def _endpoint(env, method, segments):
    arg = None
    if len(segments) == 4 and segments[:3] == ("api", "v2", "profile"):
        methods, arg = {"GET": "profile"}, unquote(segments[3])
    else:
        methods = ENDPOINTS.get(segments)
    if methods is None:
        return Route(env, UNKNOWN)
    if method not in methods:
        return Route(env, next(iter(methods.values())), arg, sorted(methods))
    return Route(env, methods[method], arg)
