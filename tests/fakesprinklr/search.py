"""Profile search: request validation, paging and expiring cursors.

A cursor remembers the query (predicate, order, time window) and the
(modifiedTime, id) key of the last profile returned.  Each page walks the
live store from that key, so profiles modified or added during a listing
show up (or move) as they would in a live index, and asking for the same
cursor twice returns the same continuation.  Every page gets a new cursor
token; old ones stay valid until they expire.
"""

import secrets
import threading
import time
from collections import OrderedDict

from fakesprinklr.filters import FilterError, compile_filter, time_window
from fakesprinklr.store import MAX_ID

MAX_CURSORS = 200000
KEEP_EXPIRED_SECONDS = 3600


class SearchError(ValueError):
    """A search request answered with 400 and this message."""


class Query:
    """A validated search: what to match, in which order, from where."""

    def __init__(self, predicate, descending, low, high):
        self.predicate = predicate
        self.descending = descending
        self.low = low
        self.high = high

    def start_key(self):
        return (self.high + 1, "") if self.descending else (self.low - 1, MAX_ID)

    def beyond(self, mt):
        return mt < self.low if self.descending else mt > self.high


def parse_request(body, max_page_size, answer="400"):
    """(Query, start, size) from a POST body, or SearchError.  A size above
    max_page_size is refused (answer "400") or cut to it ("cap": the pages
    are shorter than asked and carry cursors, as some servers do)."""
    if not isinstance(body, dict):
        raise SearchError("request body must be a JSON object")
    page = body.get("page")
    if not isinstance(page, dict) or "size" not in page:
        raise SearchError("page.size is required")
    size, start = page.get("size"), page.get("start", 0)
    if _is_int(size) and size > max_page_size and answer == "cap":
        size = max_page_size
    if not _is_int(size) or not 1 <= size <= max_page_size:
        raise SearchError("page.size must be between 1 and %d" % max_page_size)
    if not _is_int(start) or start < 0:
        raise SearchError("page.start must be a non-negative integer")
    try:
        predicate = compile_filter(body.get("filter"))
    except FilterError as err:
        raise SearchError(str(err)) from None
    low, high = time_window(body.get("filter"))
    return Query(predicate, _descending(body.get("sorts")), low, high), start, size


def _descending(sorts):
    if sorts is None:
        return False
    if not isinstance(sorts, list):
        raise SearchError("sorts must be an array")
    descending = False
    for sort in sorts:
        if not isinstance(sort, dict) or sort.get("key") != "modifiedTime":
            raise SearchError("unsupported sort: %r" % (sort,))
        order = str(sort.get("order", "ASC")).upper()
        if order not in ("ASC", "DESC"):
            raise SearchError("sort order must be ASC or DESC")
        descending = order == "DESC"
    return descending


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def run_page(store, query, after, skip, size):
    """(profiles, last key, more) for one page walked from after."""
    results, last, more = [], after, False
    with store.lock:
        for item in store.walk(after, query.descending):
            if query.beyond(item[0]):
                break
            profile = store.materialise(item)
            if not query.predicate(profile):
                continue
            if skip:
                skip -= 1
                continue
            if len(results) == size:
                more = True
                break
            results.append(profile)
            last = (item[0], item[1])
    return results, last, more


class Cursors:
    """Live cursors of all environments."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = OrderedDict()   # protected by lock: token -> (env, query, key, size, expiry)

    def issue(self, env, query, key, size, lifetime):
        token = secrets.token_hex(12)
        now = time.monotonic()
        with self.lock:
            self._purge(now)
            self.items[token] = (env, query, key, size, now + lifetime)
        return token

    def resolve(self, env, token):
        """(query, key, size) of a live cursor, or SearchError."""
        with self.lock:
            item = self.items.get(token)
        if item is None or item[0] != env:
            raise SearchError("invalid cursor")
        if time.monotonic() >= item[4]:
            raise SearchError("cursor expired")
        return item[1], item[2], item[3]

    def _purge(self, now):
        while self.items:
            token, item = next(iter(self.items.items()))
            if len(self.items) < MAX_CURSORS and item[4] + KEEP_EXPIRED_SECONDS > now:
                break
            del self.items[token]
