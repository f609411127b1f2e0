"""Per-user strings of an epoch kept packed, so that loading a stored epoch builds no
Python object per user (docs/decisions.md, "The stored epoch").

A stored epoch holds its users' object ids and UPNs as UTF-8 bytes with offsets, and its
UPN index as the users' order by folded UPN. A command that asks one question looks two
UPNs up by binary search and decodes two strings; the dicts and tuples a compiled epoch
carries are built only when something reads the whole of them (or looks up many UPNs),
and then once. Answers are the same either way: these are views, never a second source.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from infobarrier.core.directory import fold

#: Lookups answered by binary search before the dict is built (a batch of questions then
#: pays for the dict once, a single question never).
LOOKUPS_BEFORE_DICT = 4096


#: Strings put in order at a time by :meth:`PackedStrings.pack_ordered` (bounds the index
#: arrays numpy builds to a few MB).
_BLOCK = 65_536


class PackedStrings(Sequence[str]):
    """String ``i`` is ``data[offsets[i]:offsets[i + 1] - 1]`` decoded: each string's UTF-8
    followed by a newline, so that all of them decode with one ``split`` (a string that
    holds a newline itself is still sliced by the offsets). Materialised on demand."""

    __slots__ = ("_data", "_list", "_offsets", "_reads")

    def __init__(self, data: bytes, offsets: npt.NDArray[np.int64]) -> None:
        self._data = data
        self._offsets = offsets
        self._list: list[str] | None = None
        self._reads = 0

    @classmethod
    def pack(cls, strings: Sequence[str]) -> PackedStrings:
        """Pack ``strings``."""
        text = "\n".join(strings) + "\n" if len(strings) else ""
        data = text.encode()
        offsets = np.zeros(len(strings) + 1, dtype=np.int64)
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        if len(ends) == len(strings):
            # No string holds a newline: each one ends at the next. Found in the bytes, not
            # by reading each string's length (a cache miss per string at 1M users).
            offsets[1:] = ends + 1
        else:
            if len(data) == len(text):  # ASCII: byte lengths are string lengths
                lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
            else:
                lengths = np.fromiter(
                    (len(s.encode()) for s in strings), dtype=np.int64, count=len(strings)
                )
            np.cumsum(lengths + 1, out=offsets[1:])
        packed = cls(data, offsets)
        packed._list = list(strings)
        return packed

    @classmethod
    def pack_ordered(cls, strings: Sequence[str], order: npt.NDArray[np.intp]) -> PackedStrings:
        """Pack ``strings[order[0]], strings[order[1]], ...``: joined in their own order
        (each string read once, in the order they sit in memory) and the bytes then put
        in ``order`` by numpy, a block of strings at a time. Joining them in ``order``
        read a million scattered strings (a cache miss each) twice at 1M users."""
        source = cls.pack(strings)
        source._list = None
        bounds = source.offsets
        widths = bounds[1:] - bounds[:-1]  # each with its newline
        if len(widths) and np.all(widths == widths[0]):  # one length (GUIDs): rows of a table
            width = int(widths[0])
            table = np.frombuffer(source.data, dtype=np.uint8).reshape(len(widths), width)
            return cls(table[order].tobytes(), np.arange(len(widths) + 1, dtype=np.int64) * width)
        starts = bounds[:-1][order]
        lengths = widths[order]
        offsets = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.frombuffer(source.data, dtype=np.uint8)
        out = np.empty(int(offsets[-1]), dtype=np.uint8)
        for lo in range(0, len(order), _BLOCK):
            hi = min(lo + _BLOCK, len(order))
            first, last = int(offsets[lo]), int(offsets[hi])
            shift = np.repeat(starts[lo:hi] - offsets[lo:hi], lengths[lo:hi])
            out[first:last] = data[shift + np.arange(first, last)]
        return cls(out.tobytes(), offsets)

    @property
    def data(self) -> bytes:
        """Every string's UTF-8 and a newline, concatenated."""
        return self._data

    @property
    def offsets(self) -> npt.NDArray[np.int64]:
        """Where each string starts (one more entry than strings)."""
        return self._offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if self._list is not None or isinstance(index, slice):
            return self.materialized()[index]
        self._reads += 1
        if self._reads > LOOKUPS_BEFORE_DICT:  # many reads: decode them all, once
            return self.materialized()[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self._offsets[index]), int(self._offsets[index + 1]) - 1
        return self._data[start:end].decode()

    def for_reads(self, reads: int) -> Sequence[str]:
        """What to index for about ``reads`` reads: the decoded list once that many make
        it worth decoding (a plain list then, no method call per read), else ``self``."""
        if self._list is not None or reads > LOOKUPS_BEFORE_DICT:
            return self.materialized()
        return self

    def materialized(self) -> list[str]:
        """Every string, decoded once."""
        if self._list is None:
            n = len(self)
            parts: list[str] | None = None
            if n and self._data.count(b"\n") == n:
                parts = self._data[:-1].decode().split("\n")
            elif not n:
                parts = []
            if parts is None or len(parts) != n:
                bounds = self._offsets.tolist()
                data = self._data
                parts = [data[a : b - 1].decode() for a, b in itertools.pairwise(bounds)]
            self._list = parts
        return self._list

    def __iter__(self) -> Iterator[str]:
        return iter(self.materialized())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedStrings):
            return self._data == other._data and np.array_equal(self._offsets, other._offsets)
        if isinstance(other, Sequence):
            return len(other) == len(self) and all(
                a == b for a, b in zip(self.materialized(), other, strict=True)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class UpnIndex(Mapping[str, int]):
    """Folded UPN -> user index: binary search over ``order`` (the users sorted by folded
    UPN) until enough lookups make the dict worth building."""

    __slots__ = ("_dict", "_lookups", "_order", "_upns")

    def __init__(self, order: npt.NDArray[np.int32], upns: Sequence[str]) -> None:
        self._order = order
        self._upns = upns
        self._dict: dict[str, int] | None = None
        self._lookups = 0

    @classmethod
    def build(cls, upns: Sequence[str], folded: Sequence[str] | None = None) -> UpnIndex:
        """The index of these UPNs (folded, as ``core.epoch.upn_tables`` keys them;
        ``folded``: the UPNs folded already, in the same order). Users listed in folded
        order already (as a store reads them) need no sort."""
        keys = [fold(u) for u in upns] if folded is None else folded
        # Compared pairwise in C (``map``): a generator cost 0.6 s at 1M users.
        following = itertools.islice(keys, 1, None)
        if all(map(operator.le, itertools.islice(keys, max(len(keys) - 1, 0)), following)):
            return cls(np.arange(len(keys), dtype=np.int32), upns)
        order = sorted(range(len(keys)), key=keys.__getitem__)  # stable, as argsort was
        return cls(np.array(order, dtype=np.int32), upns)

    @property
    def order(self) -> npt.NDArray[np.int32]:
        """The user indices in the order of their folded UPNs (what is stored)."""
        return self._order

    @property
    def upns(self) -> Sequence[str]:
        """The UPNs it indexes."""
        return self._upns

    def as_dict(self) -> dict[str, int]:
        """The index as a dict (built once).

        UPNs are ASCII in practice, and an ASCII UPN's folded form is its lower case
        (``core.limits.identity_key``): then all of them are folded with one ``lower`` of
        the packed bytes instead of a call per user (at a million users 0.63 s of CPU
        instead of 0.75 s, most of what is left being the dict itself). A UPN already in
        lower case keys the dict with its own string object, as before.
        """
        if self._dict is None:
            keys = _folded_all(self._upns)
            if keys is not None:
                self._dict = dict(zip(keys, range(len(keys)), strict=True))
            else:
                found: dict[str, int] = {}
                for i, upn in enumerate(self._upns):
                    folded = fold(upn)
                    found[upn if folded == upn else folded] = i
                self._dict = found
        return self._dict

    def getter(self, lookups: int) -> Callable[[str], int | None]:
        """The lookup to call about ``lookups`` times: the dict's own ``get`` once that
        many make the dict worth building (no Python frame per lookup), else :meth:`get`."""
        if self._dict is not None or lookups > LOOKUPS_BEFORE_DICT:
            return self.as_dict().get
        return self.get

    def _search(self, key: str) -> int | None:
        order, upns = self._order, self._upns

        def folded_at(k: int) -> str:
            return fold(upns[int(order[k])])

        at = bisect.bisect_left(range(len(order)), key, key=folded_at)
        if at < len(order) and folded_at(at) == key:
            return int(order[at])
        return None

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._dict
        if found is not None:
            return found.get(key, default)
        self._lookups += 1
        if self._lookups > LOOKUPS_BEFORE_DICT:
            return self.as_dict().get(key, default)
        hit = self._search(key)
        return default if hit is None else hit

    def __getitem__(self, key: str) -> int:
        hit = self.get(key)
        if hit is None:
            raise KeyError(key)
        return hit

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self._order)


def _folded_all(upns: Sequence[str]) -> list[str] | None:
    """Every UPN folded, in order, when all of them are ASCII and none holds a newline
    (``None``: fold one by one). A UPN whose folded form is itself is returned as is."""
    if isinstance(upns, PackedStrings):
        data = upns.data
        names = upns.materialized()
    else:
        names = list(upns)
        data = ("\n".join(names) + "\n").encode() if names else b""
    if not names:
        return []
    if not data.isascii() or data.count(b"\n") != len(names):
        return None
    lowered = data.lower()
    if lowered == data:
        return names
    keys = lowered[:-1].decode().split("\n")
    return [n if n == k else k for n, k in zip(names, keys, strict=True)]


class KeysByUpn(Mapping[str, int]):
    """Folded UPN -> the user's ``keys`` entry, through an :class:`UpnIndex` (the dict of
    ``core.epoch.keys_by_upn`` is built when the index builds its own)."""

    __slots__ = ("_build", "_dict", "_index", "_key")

    def __init__(
        self, index: UpnIndex, key: Callable[[int], int], build: Callable[[], dict[str, int]]
    ) -> None:
        self._index = index
        self._key = key
        self._build = build
        self._dict: dict[str, int] | None = None

    def as_dict(self) -> dict[str, int]:
        """The mapping as a dict (built once)."""
        if self._dict is None:
            self._dict = self._build()
        return self._dict

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._dict
        if found is not None:
            return found.get(key, default)
        if self._index._dict is not None:
            return self.as_dict().get(key, default)
        i = self._index.get(key)
        return default if i is None else self._key(i)

    def __getitem__(self, key: str) -> int:
        hit = self.get(key)
        if hit is None:
            raise KeyError(key)
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self._index)
