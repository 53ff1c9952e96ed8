"""The queue of injected faults, consumed FIFO by matching API calls."""

import threading

KINDS = ("status", "latency", "reset", "truncate", "malformed", "hang", "trickle")
DEFAULT_SECONDS = {"latency": 1.0, "hang": 3600.0, "trickle": 0.05}


class FaultError(ValueError):
    """An invalid fault description."""


class Fault:
    """One queued fault and how many more calls it applies to."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("fault must be a JSON object")
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise FaultError("kind must be one of %s" % ", ".join(KINDS))
        self.count = _number(spec.get("count", 1), int, "count")
        self.endpoint = spec.get("endpoint")
        self.env = spec.get("env")
        self.status = _number(spec.get("status", 500), int, "status")
        self.body = str(spec.get("body", ""))
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict):
            raise FaultError("headers must be an object")
        self.seconds = _number(spec.get("seconds", DEFAULT_SECONDS.get(self.kind, 0.0)),
                               float, "seconds")

    def matches(self, env, endpoint):
        return (self.endpoint in (None, endpoint)) and (self.env in (None, env))


def _number(value, kind, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultError("%s must be a non-negative number" % name)
    return kind(value)


class Faults:
    """FIFO of faults; ``take`` pops one use of the first matching fault."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []   # protected by lock

    def add(self, spec):
        fault = Fault(spec)
        if fault.count:
            with self.lock:
                self.queue.append(fault)

    def clear(self):
        with self.lock:
            self.queue.clear()

    def take(self, env, endpoint):
        with self.lock:
            for fault in self.queue:
                if fault.matches(env, endpoint):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.queue.remove(fault)
                    return fault
        return None

    def pending(self):
        with self.lock:
            return sum(f.count for f in self.queue)
