"""Profile search: request validation, paging and expiring cursors.

A cursor remembers the query (predicate, order, time window) and the sort
key of the last profile returned.  Each page walks the live store from that
key, so profiles modified or added during a listing show up (or move) as
they would in a live index, and asking for the same cursor twice returns the
same continuation.  Every page gets a new cursor token; old ones stay valid
until they expire.

Orders: by modifiedTime (ties by id, or with ``tie_order=hash`` in a keyed
hash order that is stable but is not the id order: the contract promises
nothing about ties) or by id.  Only the first sort is honoured.  Modes the
contract allows, as tunables: ``short_pages`` (every page shorter than
asked, with a cursor), ``empty_last_page`` (a full last page still has a
cursor, which leads to an empty page), ``cursor_expired_status`` (the 4xx an
expired cursor gets).
"""

import hashlib
import secrets
import threading
import time
from collections import OrderedDict

from fakesprinklr.filters import FilterError, compile_filter, time_window
from fakesprinklr.store import MAX_ID

MAX_CURSORS = 200000
KEEP_EXPIRED_SECONDS = 3600


SORT_KEYS = ("modifiedTime", "id")
TIE_ORDERS = ("id", "hash")


class SearchError(ValueError):
    """A search request answered with 400 and this message."""


class CursorExpired(SearchError):
    """A cursor past its lifetime (answered with cursor_expired_status)."""


def tie_hash(pid):
    """The keyed hash that orders ties with tie_order=hash."""
    return hashlib.blake2b(pid.encode("utf-8", "surrogatepass"), key=b"ties",
                           digest_size=8).digest()


class Query:
    """A validated search: what to match, in which order, from where."""

    def __init__(self, predicate, sort, low, high, ties="id"):
        self.predicate = predicate
        self.by_id = sort[0] == "id"
        self.descending = sort[1]
        self.low = low
        self.high = high
        self.hashed = ties == "hash"

    def key(self, item):
        """The sort key of a walk item (mt, id, ...)."""
        if self.by_id:
            return (item[1],)
        return (item[0], tie_hash(item[1]), item[1]) if self.hashed else (item[0], item[1])

    def start_key(self):
        """A key before every key of the query's order."""
        if self.by_id:
            return (MAX_ID,) if self.descending else ("",)
        return (self.high + 1,) if self.descending else (self.low - 1,)

    def follows(self, key, after):
        return key < after if self.descending else key > after

    def beyond(self, mt):
        return mt < self.low if self.descending else mt > self.high


def parse_request(body, max_page_size, answer="400", ties="id", numeric_strings=False):
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
        predicate = compile_filter(body.get("filter"), numeric_strings)
    except FilterError as err:
        raise SearchError(str(err)) from None
    low, high = time_window(body.get("filter"))
    return Query(predicate, _sort(body.get("sorts")), low, high, ties), start, size


def _sort(sorts):
    """(key, descending) of the first sort; later ones are checked, not honoured."""
    if sorts is None:
        return "modifiedTime", False
    if not isinstance(sorts, list):
        raise SearchError("sorts must be an array")
    parsed = []
    for sort in sorts:
        if not isinstance(sort, dict) or sort.get("key") not in SORT_KEYS:
            raise SearchError("unsupported sort: %r" % (sort,))
        order = str(sort.get("order", "ASC")).upper()
        if order not in ("ASC", "DESC"):
            raise SearchError("sort order must be ASC or DESC")
        parsed.append((sort["key"], order == "DESC"))
    return parsed[0] if parsed else ("modifiedTime", False)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _by_time(store, query, after):
    """Walk items in the query's order strictly after the key after: the
    store walks by (mt, id), so each tie group is regrouped in tie order."""
    mt = after[0]
    start = (mt + 1, "") if query.descending else (mt - 1, MAX_ID)
    group = []
    for item in store.walk(start, query.descending):
        if group and item[0] != group[0][0]:
            yield from _ordered(query, group, after)
            group = []
        if query.beyond(item[0]):
            return
        group.append(item)
    yield from _ordered(query, group, after)


def _ordered(query, items, after):
    keyed = sorted(((query.key(item), item) for item in items), reverse=query.descending)
    return (item for key, item in keyed if query.follows(key, after))


def _by_id(store, query, after):
    """Walk the query's time window in id order: a scan, fine for a fake."""
    items = []
    for item in store.walk((query.low - 1, MAX_ID)):
        if item[0] > query.high:
            break
        items.append(item)
    return _ordered(query, items, after)


def page_limit(size, after, short):
    """How many results a page holds: size, or with short pages fewer
    (1 .. size-1, fixed by where the page starts)."""
    if not short or size < 2:
        return size
    spread = int.from_bytes(hashlib.blake2b(repr(after).encode(), digest_size=4).digest(), "big")
    return size - 1 - spread % max(1, size // 2)


def run_page(store, query, after, skip, size, short=False, empty_last=False):
    """(profiles, last key, more) for one page walked from after."""
    results, last, more = [], after, False
    limit = page_limit(size, after, short)
    walk = _by_id if query.by_id else _by_time
    with store.lock:
        for item in walk(store, query, after):
            profile = store.materialise(item)
            if not query.predicate(profile):
                continue
            if skip:
                skip -= 1
                continue
            if len(results) == limit:
                more = True
                break
            results.append(profile)
            last = query.key(item)
    return results, last, more or bool(empty_last and results and len(results) == limit)


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
            raise CursorExpired("cursor expired")
        return item[1], item[2], item[3]

    def _purge(self, now):
        while self.items:
            token, item = next(iter(self.items.items()))
            if len(self.items) < MAX_CURSORS and item[4] + KEEP_EXPIRED_SECONDS > now:
                break
            del self.items[token]
