"""Deterministic generation of the base profiles of one environment.

Profile i (0 <= i < count) is computed on demand from (seed, env, i); nothing
is stored per profile.  Base modifiedTime is a non-decreasing function of i
with deliberate ties (every fifth profile shares its predecessor's time), so
the base set is already sorted by time and can be searched by bisection.
"""

import functools
import random
import unicodedata

from fakesprinklr.ids import IdCodec, derive

EPOCH_MS = 1640995200000          # 2022-01-01T00:00:00Z
END_MS = 1717200000000            # 2024-06-01T00:00:00Z
TIE_EVERY = 5
DAY_MS = 86400000

FIRST = ["John", "José", "Zoë", "Łukasz", "Ana", "Björn", "Chloé", "Wei", "Ada", "µ",
         "Fatima", "Olúwaseun", "Siobhán", "Dmitri", "Maria", "Noah", "Aiko", "Ren"]
LAST = ["Doe", "García", "Müller", "Nowak", "O'Brien", "Smith", "Søndergaard", "Kim",
        "Lovelace", "Dubois", "Rossi", "Ng", "Çelik", "Novák", "Ivanova", "Tanaka"]
CITIES = [("Austin", "US"), ("Kraków", "PL"), ("São Paulo", "BR"), ("Zürich", "CH"),
          ("Lyon", "FR"), ("Osaka", "JP"), ("Dublin", "IE"), ("Pune", "IN")]
LANGS = ["en", "es", "de", "pl", "fr", "ja", "pt"]
CHANNELS = ["TWITTER", "FACEBOOK", "INSTAGRAM", "LINKEDIN", "WHATSAPP_BUSINESS", "SMS", "EMAIL"]


def _pick(rng, seq):
    """rng.choice(seq), cheaper."""
    return seq[int(rng.random() * len(seq))]


def _below(rng, n):
    """rng.randrange(n), cheaper."""
    return int(rng.random() * n)


@functools.lru_cache(maxsize=4096)
def _ascii(text):
    """A lowercase ASCII handle for a (possibly non-ASCII) name."""
    folded = unicodedata.normalize("NFKD", text.replace("Ł", "L").replace("ł", "l"))
    handle = "".join(c for c in folded.lower() if c.isascii() and (c.isalnum() or c == "."))
    return handle.strip(".") or "user"


class Generator:
    """Lazily generated base profiles of one environment."""

    def __init__(self, seed, env, count, catalog):
        self.count = count
        self.catalog = catalog
        self.codec = IdCodec(seed, env, count)
        self.salt = derive(seed, env, "profiles")
        self.time_salt = derive(seed, env, "times") & 0xFFFFFFFF
        steps = max(1, self._step_index(count - 1) + 1)
        self.step = max(2, (END_MS - EPOCH_MS) // steps)

    # --- times -----------------------------------------------------------

    @staticmethod
    def _step_index(index):
        return index - index // TIE_EVERY

    def modified_time(self, index):
        """Base modifiedTime of profile index: non-decreasing, with ties."""
        k = self._step_index(index)
        jitter = ((k * 2654435761 + self.time_salt) & 0xFFFFFFFF) % (self.step // 2)
        return EPOCH_MS + k * self.step + jitter

    def max_time(self):
        return self.modified_time(self.count - 1) if self.count else EPOCH_MS

    def first_at_or_after(self, ms):
        """Smallest index whose time is >= ms (count if none)."""
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.modified_time(mid) < ms:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # --- profiles --------------------------------------------------------

    def profile_id(self, index):
        return self.codec.profile_id(index)

    def profile(self, index):
        """The full base profile of index as a fresh dict."""
        rng = random.Random((self.salt << 32) + index)
        first, last = _pick(rng, FIRST), _pick(rng, LAST)
        modified = self.modified_time(index)
        out = {"id": self.codec.profile_id(index)}
        if rng.random() < 0.97:
            out["contact"] = self._contact(rng, first, last, index)
        if rng.random() < 0.8:
            out["demographics"] = {"location": _pick(rng, ["ca", "ny", "tx", "eu", "apac"]),
                                   "gender": _pick(rng, ["M", "F", "U"]),
                                   "language": _pick(rng, LANGS)}
        out["profiles"] = self._channels(rng, index, first, last, modified)
        if rng.random() < 0.97:
            out["profileWorkflow"] = self._workflow(rng)
        if rng.random() < 0.07:
            out["partnerExtension"] = {"source": "import", "batch": 1 + _below(rng, 49)}
        out["createdTime"] = modified - _below(rng, 400 * DAY_MS)
        out["modifiedTime"] = modified
        return out

    def channel_type(self, index, slot):
        """The channel type at slot of profile index, or None."""
        channels = self.profile(index)["profiles"]
        return channels[slot]["channelType"] if slot < len(channels) else None

    def _contact(self, rng, first, last, index):
        contact = {"firstName": first, "lastName": last, "fullName": "%s %s" % (first, last)}
        handle = _ascii("%s.%s" % (first, last))
        if rng.random() < 0.9:
            contact["email"] = "%s%d@example.com" % (handle, index)
        if rng.random() < 0.85:
            contact["phoneNo"] = "+1555%07d" % (index % 10000000)
        if rng.random() < 0.9:
            city, country = _pick(rng, CITIES)
            contact["address"] = {"city": city, "country": country}
        return contact

    def _channels(self, rng, index, first, last, modified):
        kinds = rng.sample(CHANNELS, _pick(rng, [1, 1, 2, 2, 3]))
        handle = _ascii(first + last)
        return [self._channel(rng, index, slot, kind, first, last, handle, modified)
                for slot, kind in enumerate(kinds)]

    def _channel(self, rng, index, slot, kind, first, last, handle, modified):
        cid = self.codec.channel_id(index, slot)
        item = {"name": "%s %s" % (first, last), "channelType": kind, "channelId": cid,
                "username": "%s%d" % (handle, index % 1000),
                "permalink": "https://social.example.com/%s/%s" % (kind.lower(), cid),
                "avatarUrl": "https://img.example.com/a/%s.png" % cid,
                "followers": _below(rng, 50000), "following": _below(rng, 2000),
                "verified": rng.random() < 0.05, "deleted": False,
                "snCreatedTime": 0, "snModifiedTime": modified - _below(rng, DAY_MS),
                "accountSpecificInfos": [{"accountId": 1000136633 + _below(rng, 8)}]}
        if rng.random() < 0.6:
            item["bio"] = _pick(rng, ["Coffee first ☕", "Runner, reader", "Ça va ?",
                                      "Building things", "Ünïcödé fan"])
        return item

    def _workflow(self, rng):
        cat = self.catalog
        lists = rng.sample(cat.partner_list_ids(), _pick(rng, [0, 1, 1, 2, 3]))
        props = {}
        for name, field in zip(cat.field_names, cat.fields):
            if rng.random() < 0.5:
                props[name] = self._values(rng, field)
        spaces = []
        for wid in rng.sample(cat.workspace_ids(), _pick(rng, [0, 1, 1, 2])):
            own = cat.workspace_list_ids(wid)
            spaces.append({"spaceId": wid, "profileLists": rng.sample(own, _below(rng, len(own) + 1)),
                           "customProperties": {}})
        return {"profileLists": lists, "customProperties": props, "profileSpaceWorkflows": spaces}

    @staticmethod
    def _values(rng, field):
        options = field["options"]
        if field["fieldType"] == "MULTI_PICKLIST":
            return rng.sample(options, 1 + _below(rng, 2))
        if options:
            return [_pick(rng, options)]
        return ["value %d" % _below(rng, 1000)]
