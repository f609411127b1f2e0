"""The compiled, immutable form of an applied barrier configuration (semantics §5, §6).

An :class:`Epoch` answers "may these two users communicate?" with a table lookup:
users with the same set of segments share a *profile*, and ``compat`` holds the verdict
for every pair of profiles. Per-user facts that §6 checks before segments (disabled,
in conflict, hidden in Legacy mode) are folded into the ``usable`` mask.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, Policy
from infobarrier.core.directory import fold
from infobarrier.core.packed import UpnIndex

#: Profile 0 is always "in no segment".
UNSEGMENTED = 0


@dataclass(frozen=True, slots=True)
class UserState:
    """One user's per-user facts, as a patch records them in :attr:`Epoch.overlay`."""

    profile: int
    enabled: bool
    hidden: bool
    key: int  # profile if usable, else -1


K = TypeVar("K")
V = TypeVar("V")


class Lineage:
    """The identity an epoch shares with its patches: in all of them a profile number, a
    segment and a UPN mean the same. Caches of answers that depend only on those (the
    explanations of ``core.decisions``, an adapter's serialized verdicts) are kept per
    lineage, weakly (:class:`LineageCache`), never on the epoch: the epoch stays a value.
    A compile starts a new lineage; so does a patch that adds a profile (two patches of one
    epoch could number different segment sets alike)."""

    __slots__ = ("__weakref__",)


class LineageCache(Generic[K, V]):
    """Per lineage, a dict of at most ``limit`` entries (cleared when full), dropped with
    the last epoch of its lineage. ``limit`` is a setting (``service.settings``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._tables: WeakKeyDictionary[Lineage, dict[K, V]] = WeakKeyDictionary()

    def of(self, epoch: Epoch) -> dict[K, V]:
        """The table of the epoch's lineage (empty at first)."""
        table = self._tables.get(epoch.lineage)
        if table is None:
            table = self._tables.setdefault(epoch.lineage, {})
        return table

    def put(self, table: dict[K, V], key: K, value: V) -> V:
        """``table[key] = value``, first emptying a full table (bounded memory)."""
        if len(table) >= self.limit:
            table.clear()
        table[key] = value
        return value


@dataclass(frozen=True, slots=True, eq=False)
class Epoch:
    """Everything a decision reads; built by :func:`infobarrier.core.compiler.compile_epoch`.

    ``config`` is the epoch's own copy of the segments and Active policies it was built
    from (§4: later edits do not touch it). Profiles ``1..S`` are the single segments in
    ``config.segments`` order; profiles after those are sets of several segments.
    """

    config: BarrierConfig
    #: Sequences and mappings: tuples and dicts when compiled, packed views when loaded
    #: from the stored epoch (``core.packed``; built on first use, never per question).
    user_ids: Sequence[str]
    upns: Sequence[str]
    upn_index: Mapping[str, int]
    enabled: npt.NDArray[np.bool_]
    hidden: npt.NDArray[np.bool_]
    profile_of: npt.NDArray[np.int32]
    profiles: tuple[tuple[int, ...], ...]
    conflict: npt.NDArray[np.bool_]
    compat: npt.NDArray[np.bool_]
    permits: npt.NDArray[np.bool_]
    open: npt.NDArray[np.bool_]
    usable: npt.NDArray[np.bool_]
    #: Per user: its profile when usable, else -1 (plain ints for the one-pair fast path).
    keys: array[int] = field(repr=False, default_factory=lambda: array("i"))
    #: ``compat`` as plain ``bytes`` (``compat`` is a numpy view of the same memory):
    #: ``table[k * P + m]`` is plain indexing, without numpy's per-scalar cost.
    table: bytes = field(repr=False, default=b"")
    #: Folded UPN -> its ``keys`` entry, the ints shared (one object per profile): a decision
    #: by UPN is then two dict lookups and one ``table`` read, touching neither ``upn_index``'s
    #: per-user int objects nor ``keys`` (each a cache miss at a million users).
    upn_keys: Mapping[str, int] = field(default_factory=dict, repr=False)
    #: Segment names by index, and each segment's Active policy (built once: O(1) lookups).
    names: tuple[str, ...] = ()
    policies: tuple[Policy | None, ...] = ()
    #: Users patched since the arrays above were built: index -> their state. Patching a
    #: user is then O(1) instead of copying every per-user array (``core.patch``).
    overlay: dict[int, UserState] = field(default_factory=dict, repr=False)
    #: The overlay's keys by folded UPN (``upn_keys`` for the patched users).
    overlay_keys: dict[str, int] = field(default_factory=dict, repr=False)
    #: Arrays with the overlay applied and indexes of the fields above, built on first use
    #: (pure functions of the epoch's own fields; answers are cached per :class:`Lineage`).
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Shared with the epoch's patches (see :class:`Lineage`).
    lineage: Lineage = field(default_factory=Lineage, repr=False)

    @property
    def mode(self) -> Mode:
        """The tenant mode the epoch was compiled under."""
        return self.config.mode

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names by segment index."""
        return self.names

    def __len__(self) -> int:
        return len(self.user_ids)

    def realized(self) -> Epoch:
        """The same epoch with its per-user strings and UPN maps as tuples and dicts.

        An epoch loaded from its stored form keeps them packed (``core.packed``), which
        suits a command that asks a few questions; a server that answers many calls this
        once, so that its hot path reads plain dicts. The object ids stay packed: no
        decision reads them, and a million of them as strings cost about 0.1 s before the
        server is ready and 100 MB it keeps.
        """
        if isinstance(self.upn_keys, dict) and isinstance(self.upn_index, dict):
            return self
        upns = tuple(self.upns)
        index = (
            self.upn_index
            if isinstance(self.upn_index, dict)
            else dict(self.upn_index.items())
            if not isinstance(self.upn_index, UpnIndex)
            else self.upn_index.as_dict()
        )
        upn_keys = keys_by_upn(index, self.keys, len(self.profiles))
        return replace(self, upns=upns, upn_index=index, upn_keys=upn_keys)

    # -- per-user state (the base arrays, overridden by the overlay) -------------------
    def key(self, index: int) -> int:
        """The user's profile when usable, else -1."""
        state = self.overlay.get(index) if self.overlay else None
        return state.key if state is not None else self.keys[index]

    def profile(self, index: int) -> int:
        """The user's profile (their exact set of segments)."""
        state = self.overlay.get(index) if self.overlay else None
        return state.profile if state is not None else int(self.profile_of[index])

    def is_enabled(self, index: int) -> bool:
        """``AccountEnabled``."""
        state = self.overlay.get(index) if self.overlay else None
        return state.enabled if state is not None else bool(self.enabled[index])

    def is_hidden(self, index: int) -> bool:
        """Hidden from address lists (explicitly, or as a guest by default)."""
        state = self.overlay.get(index) if self.overlay else None
        return state.hidden if state is not None else bool(self.hidden[index])

    def profile_array(self) -> npt.NDArray[np.int32]:
        """Every user's profile, overlay applied (for vectorised work)."""
        return self._materialized("profile_of", self.profile_of, lambda s: s.profile)

    def usable_array(self) -> npt.NDArray[np.bool_]:
        """Every user's ``usable`` flag, overlay applied (for vectorised work)."""
        return self._materialized("usable", self.usable, lambda s: s.key >= 0)

    def _materialized(
        self, name: str, base: npt.NDArray[Any], value: Callable[[UserState], Any]
    ) -> npt.NDArray[Any]:
        if not self.overlay:
            return base
        found = self.derived.get(name)
        if found is None:
            found = base.copy()
            for index, state in self.overlay.items():
                found[index] = value(state)
            self.derived[name] = found
        return found

    def allowed(self, u: int, v: int) -> bool:
        """``compatible(u, v)`` of §6 as a bare boolean: the hot path (no reason).

        Plain-Python indexing into ``keys`` and ``table``: a few hundred nanoseconds.
        """
        if u == v:
            return True
        if self.overlay:
            k, m = self.key(u), self.key(v)
        else:
            k, m = self.keys[u], self.keys[v]
        return bool(k >= 0 and m >= 0 and self.table[k * len(self.profiles) + m] == 1)

    def allowed_upn(self, a: str, b: str) -> bool | None:
        """:meth:`allowed` for two UPNs; ``None`` when either is unknown (never a yes).

        Reads ``upn_keys`` (a UPN given as stored skips folding): the hot path by UPN.
        """
        keys = self.upn_keys
        k = keys.get(a)
        if k is None:
            a = fold(a.strip())
            k = keys.get(a)
            if k is None:
                return None
        m = keys.get(b)
        if m is None:
            b = fold(b.strip())
            m = keys.get(b)
            if m is None:
                return None
        changed = self.overlay_keys
        if changed:
            k = changed.get(a, k)
            m = changed.get(b, m)
        if k >= 0 and m >= 0 and self.table[k * len(self.profiles) + m] == 1:
            return True
        return a == b  # both folded here; a user is always compatible with themself (§6)

    def all_allowed(self, users: Sequence[int]) -> bool:
        """Every pair among ``users`` compatible (a group chat, call or meeting).

        Checks each pair of distinct *profiles* once instead of every pair of users.
        """
        key = self.key
        distinct = set(users)
        if len(distinct) < 2:
            return True  # a user is always compatible with themself
        seen: dict[int, int] = {}
        for u in distinct:
            k = key(u)
            if k < 0:
                return False
            seen[u] = k
        profiles = list(dict.fromkeys(seen.values()))
        counts: dict[int, int] = {}
        for k in seen.values():
            counts[k] = counts.get(k, 0) + 1
        table, width = self.table, len(self.profiles)
        for i, k in enumerate(profiles):
            base = k * width
            if counts[k] > 1 and table[base + k] != 1:
                return False
            for m in profiles[i + 1 :]:
                if table[base + m] != 1:
                    return False
        return True

    def index_of_id(self, user_id: str) -> int | None:
        """A user's position by object id (the map is built once and shared by patches)."""
        ids: dict[str, int] | None = self.derived.get("ids")
        if ids is None:
            ids = self.derived["ids"] = {uid: i for i, uid in enumerate(self.user_ids)}
        return ids.get(user_id)

    def index_of(self, upn: str) -> int | None:
        """A user's position in this epoch, by UPN (case-insensitive)."""
        found = self.upn_index.get(upn)
        return found if found is not None else self.upn_index.get(fold(upn.strip()))

    def segments_of(self, index: int) -> tuple[str, ...]:
        """Names of the segments a user is in (all of them, also when in conflict)."""
        names = self.segment_names
        return tuple(names[s] for s in self.profiles[self.profile(index)])

    def in_conflict(self, index: int) -> bool:
        """True when the user matches more segments than the mode allows (§5)."""
        return bool(self.conflict[self.profile(index)])

    def policy_of(self, segment: int) -> Policy | None:
        """The applied Active policy of a segment (by index), or ``None``."""
        return self.policies[segment]

    def conflicts(self) -> list[int]:
        """Indices of the users in ``IBPolicyConflict``."""
        return [int(i) for i in np.flatnonzero(self.conflict[self.profile_array()])]

    def segment_counts(self) -> list[int]:
        """How many users each segment holds, by segment index."""
        counts = np.bincount(self.profile_array(), minlength=len(self.profiles))
        totals = [0] * len(self.config.segments)
        for p, members in enumerate(self.profiles):
            for s in members:
                totals[s] += int(counts[p])
        return totals


def permits(policy: Policy | None, target: str) -> bool:
    """``permits(s, t)`` of §6 for the policy of ``s`` and the name of ``t``."""
    if policy is None:
        return True
    listed = fold(target) in {fold(n) for n in policy.segments}
    return listed if policy.kind is ListKind.ALLOW else not listed


def is_open(policy: Policy | None, mode: Mode) -> bool:
    """``open(s)`` of §6: may members of ``s`` reach users in no segment?"""
    return policy is None or policy.kind is ListKind.BLOCK or mode is not Mode.LEGACY


def upn_tables(
    upns: Sequence[str],
    keys: array[int],
    profiles: int,
    folded_upns: Sequence[str] | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """``upn_index`` and ``upn_keys`` of an epoch (``folded_upns``: the UPNs folded
    already, as the store keeps them; folded here otherwise).

    A UPN that is already folded is its own key (no second string per user); the key ints
    are shared, one object per profile, so that the index of keys costs only its table.
    """
    index: dict[str, int] = {}
    folded_all = map(fold, upns) if folded_upns is None else folded_upns
    for i, (upn, folded) in enumerate(zip(upns, folded_all, strict=True)):
        index[upn if folded == upn else folded] = i
    return index, keys_by_upn(index, keys, profiles)


def keys_by_upn(upn_index: Mapping[str, int], keys: array[int], profiles: int) -> dict[str, int]:
    """``upn_keys``: each folded UPN's entry of ``keys``, one shared int per profile.

    Built by C loops (the entries gathered by numpy, the dict by ``dict(zip(...))``)
    rather than a comprehension that indexes ``keys`` per user: at a million users
    0.55 s instead of 0.95 s, which every reader of a stored epoch pays (``serve`` before
    it is ready, ``check --batch``).
    """
    shared = list(range(-1, profiles))
    if isinstance(upn_index, UpnIndex):
        upn_index = upn_index.as_dict()
    entries = np.frombuffer(keys, dtype=np.intc) if len(keys) else np.zeros(0, dtype=np.intc)
    at = np.fromiter(upn_index.values(), dtype=np.intp, count=len(upn_index))
    picked: list[int] = (entries[at] + 1).tolist()
    return dict(zip(upn_index, map(shared.__getitem__, picked), strict=True))


def fast_tables(
    usable: npt.NDArray[np.bool_],
    profile_of: npt.NDArray[np.int32],
    compat: npt.NDArray[np.bool_],
) -> tuple[array[int], bytes, npt.NDArray[np.bool_]]:
    """``keys`` and ``table`` of an epoch, and ``compat`` as a view of ``table``."""
    keys = np.where(usable, profile_of, -1).astype(np.int32)
    packed = array("i")
    packed.frombytes(keys.tobytes())
    table = np.ascontiguousarray(compat, dtype=np.bool_).tobytes()
    view = np.frombuffer(table, dtype=np.bool_).reshape(compat.shape)
    return packed, table, view
