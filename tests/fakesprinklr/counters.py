"""Counters of API calls per environment, endpoint and status, and of events."""

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

    def call(self, env, endpoint, status):
        with self.lock:
            by_status = self.calls.setdefault(env, {}).setdefault(endpoint, {})
            label = str(status)
            by_status[label] = by_status.get(label, 0) + 1

    def event(self, name, env):
        with self.lock:
            table = self.events[name]
            table[env] = table.get(env, 0) + 1

    def snapshot(self):
        with self.lock:
            out = {"calls": {env: {ep: dict(st) for ep, st in eps.items()}
                             for env, eps in self.calls.items()}}
            out.update({name: dict(table) for name, table in self.events.items()})
            return out
