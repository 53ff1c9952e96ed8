"""Counters of API calls per environment, endpoint and status, of events, and
of what the transport did: connections, TLS handshakes, gzip-encoded answers.

Transport counts cover every connection since the last reset, control ones
included; a test that keeps its control connection open across the reset
sees only its client's.  ``used`` counts the distinct connections that
carried an API or OAuth call since the reset, wherever they were opened.
"""

import threading

EVENTS = ("tokens_issued", "refresh_reused", "codes_reused", "throttled")


class Counters:
    """Thread-safe tallies, readable as one JSON-ready dict."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.calls = {}                       # protected by lock
            self.events = {e: {} for e in EVENTS}  # protected by lock
            self.gzip = {}                        # protected by lock
            self.transport = {"connections": 0, "handshakes": 0,
                              "resumed": 0}       # protected by lock
            self.used = set()                     # protected by lock

    def call(self, env, endpoint, status, connection=None):
        with self.lock:
            by_status = self.calls.setdefault(env, {}).setdefault(endpoint, {})
            label = str(status)
            by_status[label] = by_status.get(label, 0) + 1
            if connection is not None:
                self.used.add(connection)

    def event(self, name, env):
        with self.lock:
            table = self.events[name]
            table[env] = table.get(env, 0) + 1

    def accepted(self):
        """A TCP connection was accepted."""
        with self.lock:
            self.transport["connections"] += 1

    def handshake(self, resumed):
        """A TLS handshake completed, resuming a session or not."""
        with self.lock:
            self.transport["handshakes"] += 1
            self.transport["resumed"] += 1 if resumed else 0

    def gzipped(self, env, endpoint):
        """An answer to an API call went out gzip-encoded."""
        with self.lock:
            by_endpoint = self.gzip.setdefault(env, {})
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + 1

    def snapshot(self):
        with self.lock:
            out = {"calls": {env: {ep: dict(st) for ep, st in eps.items()}
                             for env, eps in self.calls.items()}}
            out.update({name: dict(table) for name, table in self.events.items()})
            out["gzip"] = {env: dict(eps) for env, eps in self.gzip.items()}
            out["transport"] = dict(self.transport, used=len(self.used))
            return out
