"""Invertible, table-free mappings between indices and public identifiers.

A profile index i maps to a 24-hex-digit id through a bijection of the 96-bit
integers (multiply by an odd constant, add, xor-shift, multiply again), so an
id is turned back into its index with modular inverses and no lookup table.
Channel ids use the same construction over 60 bits on i * 4 + slot and are
printed as 19-digit decimal strings.
"""

import hashlib

CHANNEL_SLOTS = 4
CHANNEL_OFFSET = 10 ** 18


def derive(*parts):
    """A deterministic 64-bit integer derived from parts (any str()-able)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


class Permutation:
    """A keyed bijection of the integers in [0, 2**bits)."""

    def __init__(self, bits, *key):
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.shift = bits // 2
        self.mul1 = self._odd(derive("mul1", bits, *key))
        self.mul2 = self._odd(derive("mul2", bits, *key))
        self.add = derive("add", bits, *key) & self.mask
        self.inv1 = pow(self.mul1, -1, 1 << bits)
        self.inv2 = pow(self.mul2, -1, 1 << bits)

    def _odd(self, seed):
        value = seed
        while value.bit_length() < self.bits:
            value = (value << 64) | derive("widen", value)
        return (value & self.mask) | 1

    def forward(self, n):
        x = (n * self.mul1 + self.add) & self.mask
        x ^= x >> self.shift
        return (x * self.mul2) & self.mask

    def backward(self, x):
        x = (x * self.inv2) & self.mask
        x ^= x >> self.shift
        return ((x - self.add) * self.inv1) & self.mask


class IdCodec:
    """Profile ids and channel ids of one environment."""

    def __init__(self, seed, env, count):
        self.count = count
        self.profile_perm = Permutation(96, seed, env, "profile")
        self.channel_perm = Permutation(60, seed, env, "channel")

    def profile_id(self, index):
        return "%024x" % self.profile_perm.forward(index)

    def profile_index(self, pid):
        """The index of a generated profile id, or None."""
        if not isinstance(pid, str) or len(pid) != 24:
            return None
        try:
            value = int(pid, 16)
        except ValueError:
            return None
        if pid != "%024x" % value:
            return None
        index = self.profile_perm.backward(value)
        return index if index < self.count else None

    def channel_id(self, index, slot):
        return str(CHANNEL_OFFSET + self.channel_perm.forward(index * CHANNEL_SLOTS + slot))

    def channel_slot(self, cid):
        """(index, slot) of a generated channel id, or None."""
        if not isinstance(cid, str) or not cid.isdigit() or len(cid) != 19:
            return None
        value = int(cid) - CHANNEL_OFFSET
        if not 0 <= value <= self.channel_perm.mask:
            return None
        index, slot = divmod(self.channel_perm.backward(value), CHANNEL_SLOTS)
        return (index, slot) if index < self.count else None
