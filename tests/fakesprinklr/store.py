"""The live profile set of one environment: generated base plus an overlay.

Only modified, added and deleted profiles are stored: ``overlay`` maps an id
to its current profile as compact JSON bytes (about a tenth of the memory of
the dict, and immutable), or to None for a deleted base profile; ``channels``
indexes the overlay's channel profiles.  A
sorted list of (modifiedTime, id) over the live overlay profiles is merged
with the time-ordered base (bisected, never materialised) to walk the whole
set in (modifiedTime, id) order from any key, as the search index does.

Concurrency: one lock per store; every public method takes it, and walks
(``walk``) must be consumed while the caller holds ``store.lock``.
"""

import bisect
import heapq
import json
import threading
import time

from fakesprinklr.data import Generator
from fakesprinklr.messages import encode

MAX_ID = "\U0010ffff" * 4


def sort_time(profile):
    """The modifiedTime a profile sorts by (0 when absent or not a number)."""
    value = profile.get("modifiedTime")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Store:
    """Base profiles of one environment with modifications on top."""

    def __init__(self, seed, env, count, catalog):
        self.gen = Generator(seed, env, count, catalog)
        self.lock = threading.RLock()
        self.overlay = {}            # protected by lock: id -> JSON bytes or None
        self.channels = {}           # protected by lock: (type, channel id) -> id
        self.order = []              # protected by lock: sorted (mt, id) of live overlay
        self.latest = self.gen.max_time()  # protected by lock

    # --- reading ---------------------------------------------------------

    def get(self, pid):
        """The current profile with id pid, or None."""
        with self.lock:
            if pid in self.overlay:
                stored = self.overlay[pid]
                return None if stored is None else json.loads(stored)
            index = self.gen.codec.profile_index(pid)
            return None if index is None else self.gen.profile(index)

    def exists(self, pid):
        with self.lock:
            if pid in self.overlay:
                return self.overlay[pid] is not None
            return self.gen.codec.profile_index(pid) is not None

    def by_channel(self, kind, cid):
        """The profile with a channel profile of type kind and id cid, or None."""
        with self.lock:
            if (kind, cid) in self.channels:
                return self.get(self.channels[(kind, cid)])
            found = self.gen.codec.channel_slot(cid)
            if found is None:
                return None
            profile = self.gen.profile(found[0])
            if profile["id"] in self.overlay or not _has_channel(profile, kind, cid):
                return None
            return profile

    def walk(self, after, descending=False):
        """Yield (mt, id, profile-or-None-if-base, index) strictly after key.

        ``after`` is a (mt, id) key; for a descending walk, strictly before it.
        """
        if descending:
            base = self._base_desc(after)
            pos = bisect.bisect_left(self.order, after)
            extra = ((mt, pid, self.overlay[pid], None) for mt, pid in reversed(self.order[:pos]))
        else:
            base = self._base_asc(after)
            pos = bisect.bisect_right(self.order, after)
            extra = ((mt, pid, self.overlay[pid], None) for mt, pid in self.order[pos:])
        return heapq.merge(base, extra, key=lambda item: (item[0], item[1]), reverse=descending)

    def materialise(self, item):
        """The profile dict of a walk item."""
        return json.loads(item[2]) if item[3] is None else self.gen.profile(item[3])

    def snapshot_ids(self):
        """(sorted base ids as ints, overlay copy) for a listing by id."""
        with self.lock:
            overlay = dict(self.overlay)
        codec = self.gen.codec
        base = sorted(codec.profile_perm.forward(i) for i in range(self.gen.count))
        return base, overlay

    # --- writing ---------------------------------------------------------

    def fresh_time(self):
        """A modifiedTime later than every existing one."""
        with self.lock:
            self.latest = max(int(time.time() * 1000), self.latest + 1)
            return self.latest

    def put(self, pid, profile):
        """Create or replace pid with profile (its modifiedTime as given)."""
        with self.lock:
            self._unindex(pid)
            self.overlay[pid] = encode(profile)
            key = (sort_time(profile), pid)
            bisect.insort(self.order, key)
            self.channels.update((c, pid) for c in _channel_keys(profile))
            self.latest = max(self.latest, key[0])

    def delete(self, pid):
        """Delete pid; False when there was no such profile."""
        with self.lock:
            if self.get(pid) is None:
                return False
            self._unindex(pid)
            if self.gen.codec.profile_index(pid) is None:
                del self.overlay[pid]
            else:
                self.overlay[pid] = None
            return True

    def oldest_ids(self, count):
        """Ids of the count live profiles with the oldest modifiedTime."""
        with self.lock:
            out = []
            for item in self.walk((-1 << 63, "")):
                if len(out) >= count:
                    break
                out.append(item[1])
            return out

    def _unindex(self, pid):
        stored = self.overlay.get(pid)
        if stored is not None:
            old = json.loads(stored)
            for channel in _channel_keys(old):
                if self.channels.get(channel) == pid:
                    del self.channels[channel]
            key = (sort_time(old), pid)
            pos = bisect.bisect_left(self.order, key)
            if pos < len(self.order) and self.order[pos] == key:
                del self.order[pos]

    # --- base walks ------------------------------------------------------

    def _base_asc(self, after):
        gen, overlay = self.gen, self.overlay
        index = gen.first_at_or_after(after[0])
        while index < gen.count:
            group, index = self._group(index, 1)
            for mt, pid, i in group:
                if (mt, pid) > after and pid not in overlay:
                    yield mt, pid, None, i

    def _base_desc(self, after):
        gen, overlay = self.gen, self.overlay
        index = gen.first_at_or_after(after[0] + 1) - 1
        while index >= 0:
            group, index = self._group(index, -1)
            for mt, pid, i in reversed(group):
                if (mt, pid) < after and pid not in overlay:
                    yield mt, pid, None, i

    def _group(self, index, step):
        """The tie group containing index, sorted by id, and the next index."""
        gen = self.gen
        mt = gen.modified_time(index)
        members = [index]
        nxt = index + step
        while 0 <= nxt < gen.count and gen.modified_time(nxt) == mt:
            members.append(nxt)
            nxt += step
        return sorted((mt, gen.profile_id(i), i) for i in members), nxt


def _channel_keys(profile):
    """(channelType, channelId) of each channel profile."""
    channels = profile.get("profiles")
    if not isinstance(channels, list):
        return []
    return [(c.get("channelType"), c.get("channelId")) for c in channels
            if isinstance(c, dict) and isinstance(c.get("channelType"), str)
            and isinstance(c.get("channelId"), str)]


def _has_channel(profile, kind, cid):
    return (kind, cid) in _channel_keys(profile)
