"""Per-key rate limiting: a sliding window per second and per hour.

The "hour" is ``rate_window`` seconds long (3600 by default): contracts may
have another window, and tests shorten it.

``check`` admits a call (recording it) or says which limit it broke and how
long to wait; throttled calls are not recorded, so they cost no quota.  A
limit of 0 means unlimited.  In "alternate" mode the answer to successive
throttled calls of one key flips between 403 and 429.
"""

import math
import threading
import time
from collections import deque

WINDOWS = ("second", "hour")


class Verdict:
    """Outcome of a rate-limit check."""

    def __init__(self, allowed, window=None, retry_after=0, headers=None, status=None):
        self.allowed = allowed
        self.window = window          # "second" or "hour" when throttled
        self.retry_after = retry_after
        self.headers = headers or {}
        self.status = status          # 403 or 429 when throttled


class Limiter:
    """Sliding-window limits for every key."""

    def __init__(self, config):
        self.config = config
        self.lock = threading.Lock()
        self.calls = {}   # protected by lock: key -> {"second": deque, "hour": deque}
        self.flip = {}    # protected by lock: key -> last throttled status

    def check(self, key):
        now = time.monotonic()
        limits = {"second": self.config.rate_per_second, "hour": self.config.rate_per_hour}
        spans = {"second": 1.0, "hour": self.config.rate_window}
        with self.lock:
            windows = self.calls.setdefault(key, {"second": deque(), "hour": deque()})
            for name in WINDOWS:
                _expire(windows[name], now - spans[name])
            for name in WINDOWS:
                limit, stamps = limits[name], windows[name]
                if limit and len(stamps) >= limit:
                    wait = max(1, math.ceil(stamps[len(stamps) - limit] + spans[name] - now))
                    return Verdict(False, name, wait, status=self._status(key))
            for name in WINDOWS:
                if limits[name]:
                    windows[name].append(now)
            return Verdict(True, headers=self._headers(limits, spans, windows, now))

    def reset(self):
        with self.lock:
            self.calls.clear()
            self.flip.clear()

    def _status(self, key):
        mode = self.config.rate_limit_answer
        if mode in ("403", "429"):
            return int(mode)
        status = 429 if self.flip.get(key) == 403 else 403
        self.flip[key] = status
        return status

    @staticmethod
    def _headers(limits, spans, windows, now):
        name = "hour" if limits["hour"] else "second"
        limit = limits[name]
        if not limit:
            return {}
        stamps = windows[name]
        span = spans[name]
        reset_in = (stamps[0] + span - now) if stamps else span
        return {"X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - len(stamps))),
                "X-RateLimit-Reset": str(int(time.time() + reset_in) + 1)}


def _expire(stamps, cutoff):
    while stamps and stamps[0] <= cutoff:
        stamps.popleft()
