"""Settings of a running fake: environments and the runtime-tunable knobs."""

import threading

DEFAULT_ENV = "prod2:sandbox-key:sandbox-secret:http://localhost:8123/sprinklr/callback"

TUNABLES = {
    "token_lifetime": float, "cursor_lifetime": float, "code_lifetime": float,
    "rate_per_second": int, "rate_per_hour": int, "rate_window": float,
    "rate_limit_answer": str,
    "latency": float, "max_page_size": int, "max_page_size_answer": str,
    "expires_in_string": bool,
    "tie_order": str, "short_pages": bool, "empty_last_page": bool,
    "cursor_expired_status": int, "numeric_strings": bool,
}
# The values a str setting takes.
CHOICES = {"rate_limit_answer": ("alternate", "403", "429"),
           "max_page_size_answer": ("400", "cap"), "tie_order": ("id", "hash")}


class ConfigError(ValueError):
    """An invalid setting."""


class Environment:
    """One Sprinklr environment with its registered application."""

    def __init__(self, name, key, secret, redirect_uri):
        if not name or "/" in name or name.startswith("_"):
            raise ConfigError("bad environment name %r" % name)
        self.name = name
        self.key = key
        self.secret = secret
        self.redirect_uri = redirect_uri

    @classmethod
    def parse(cls, text):
        parts = text.split(":", 3)
        if len(parts) != 4 or not all(parts):
            raise ConfigError("--env wants NAME:KEY:SECRET:REDIRECT_URI, got %r" % text)
        return cls(*parts)

    def as_dict(self):
        return {"name": self.name, "key": self.key, "secret": self.secret,
                "redirect_uri": self.redirect_uri}


class Config:
    """Runtime settings; attribute reads are atomic, updates are validated."""

    def __init__(self, **values):
        self.token_lifetime = 2591999.0
        self.cursor_lifetime = 300.0
        self.code_lifetime = 600.0
        self.rate_per_second = 10
        self.rate_per_hour = 1000
        self.rate_window = 3600.0      # seconds of the rate_per_hour window
        self.rate_limit_answer = "alternate"
        self.latency = 0.0
        self.max_page_size = 1000
        self.max_page_size_answer = "400"
        self.expires_in_string = False
        self.tie_order = "id"            # ties in modifiedTime: by id, or "hash"
        self.short_pages = False         # every page shorter than asked
        self.empty_last_page = False     # a full last page still has a cursor
        self.cursor_expired_status = 400
        self.numeric_strings = False     # accept "123" for a numeric key
        self.lock = threading.Lock()
        self.update(values)

    def update(self, values):
        """Apply a dict of settings atomically (all or nothing)."""
        if not isinstance(values, dict):
            raise ConfigError("config must be a JSON object")
        clean = {name: _convert(name, value) for name, value in values.items()}
        with self.lock:
            for name, value in clean.items():
                setattr(self, name, value)

    def as_dict(self):
        return {name: getattr(self, name) for name in TUNABLES}


def _convert(name, value):
    kind = TUNABLES.get(name)
    if kind is None:
        raise ConfigError("unknown setting %r" % name)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError("%s must be true or false" % name)
        return value
    if kind is str:
        value = str(value)
        if value not in CHOICES[name]:
            raise ConfigError("%s must be one of %s" % (name, ", ".join(CHOICES[name])))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError("%s must be a non-negative number" % name)
    if name == "rate_window" and value <= 0:
        raise ConfigError("rate_window must be positive")
    if name == "max_page_size" and value < 1:
        raise ConfigError("max_page_size must be at least 1")
    if name == "cursor_expired_status" and not 400 <= value <= 499:
        raise ConfigError("cursor_expired_status must be a 4xx status")
    return kind(value)
