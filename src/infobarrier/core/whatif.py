"""What an apply would change: the difference between two epochs over one directory (§5).

Both epochs must be compiled over the same directory, so user indices line up. Each list
holds at most :data:`LIST_LIMIT` entries, with the full count beside it: a first apply at a
million users moves every segmented user and, with 5,000 segments, flips 12.5 million
segment pairs; explaining and storing all of them took minutes and gigabytes for a preview
nobody reads line by line (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import LIMITS
from infobarrier.core.decisions import NO_SEGMENT, explain_profiles
from infobarrier.core.directory import fold
from infobarrier.core.epoch import UNSEGMENTED, Epoch


@dataclass(frozen=True, slots=True)
class SegmentChange:
    """A user whose segments differ between the two epochs."""

    upn: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairChange:
    """A pair of segments (or ``(none)``) whose verdict flips."""

    a: str
    b: str
    now: bool
    reason: str


#: Entries kept per list of a :class:`WhatIf` (the counts are always complete).
LIST_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Totals:
    """How many entries each list of a :class:`WhatIf` would have without the limit."""

    users_changed: int = 0
    pairs_blocked: int = 0
    pairs_allowed: int = 0
    new_conflicts: int = 0
    resolved_conflicts: int = 0


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The preview of an apply; nothing has changed when you read it.

    Each list is the first :data:`LIST_LIMIT` entries (in user or matrix order);
    ``totals`` counts them all.
    """

    users_changed: list[SegmentChange] = field(default_factory=list)
    pairs_blocked: list[PairChange] = field(default_factory=list)
    pairs_allowed: list[PairChange] = field(default_factory=list)
    new_conflicts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    resolved_conflicts: list[str] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    @property
    def is_empty(self) -> bool:
        """True when the apply would change nothing."""
        return not (
            self.users_changed
            or self.pairs_blocked
            or self.pairs_allowed
            or self.new_conflicts
            or self.resolved_conflicts
        )

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "users_changed": [
                {"upn": c.upn, "before": list(c.before), "after": list(c.after)}
                for c in self.users_changed
            ],
            "pairs_blocked": [{"a": p.a, "b": p.b, "reason": p.reason} for p in self.pairs_blocked],
            "pairs_allowed": [{"a": p.a, "b": p.b, "reason": p.reason} for p in self.pairs_allowed],
            "new_conflicts": [{"upn": u, "segments": list(s)} for u, s in self.new_conflicts],
            "resolved_conflicts": self.resolved_conflicts,
            "totals": {
                "users_changed": self.totals.users_changed,
                "pairs_blocked": self.totals.pairs_blocked,
                "pairs_allowed": self.totals.pairs_allowed,
                "new_conflicts": self.totals.new_conflicts,
                "resolved_conflicts": self.totals.resolved_conflicts,
            },
        }


def diff(
    before: Epoch,
    after: Epoch,
    *,
    limit: int = LIST_LIMIT,
    added: Sequence[tuple[int, ...]] = (),
) -> WhatIf:
    """Users whose segments change, segment pairs that flip, conflicts that appear or go:
    the first ``limit`` of each, and how many there are.

    ``added`` are the segments (indices into ``before``'s) of users that ``after`` has
    beyond ``before``'s, in ``after``'s order at its end (the accounts a vendor preview
    creates): ``before`` over the same directory, without compiling it again.
    """
    _check_users(before, after, added)
    moved, was, now = _user_masks(before, after, added)
    names = before.segment_names

    def segments_before(i: int) -> tuple[str, ...]:
        if i < len(before):
            return before.segments_of(i)
        return tuple(names[s] for s in added[i - len(before)])

    users = [
        SegmentChange(after.upns[i], segments_before(i), after.segments_of(i))
        for i in np.flatnonzero(moved)[:limit].tolist()
    ]
    appeared, gone = now & ~was, was & ~now
    new_conflicts = [
        (after.upns[i], after.segments_of(i)) for i in np.flatnonzero(appeared)[:limit].tolist()
    ]
    resolved = [after.upns[i] for i in np.flatnonzero(gone)[:limit].tolist()]
    counts = {
        "users": int(np.count_nonzero(moved)),
        "new": int(np.count_nonzero(appeared)),
        "resolved": int(np.count_nonzero(gone)),
    }
    a, b, now_allowed = _flipped_pairs(before, after)
    lists: dict[bool, list[PairChange]] = {True: [], False: []}
    for verdict in (False, True):
        chosen = np.flatnonzero(now_allowed == verdict)[:limit]
        for x, y in zip(a[chosen].tolist(), b[chosen].tolist(), strict=True):
            reason = explain_profiles(after, x, y).reason
            lists[verdict].append(PairChange(_name(after, x), _name(after, y), verdict, reason))
    allowed_total = int(np.count_nonzero(now_allowed))
    totals = Totals(
        users_changed=counts["users"],
        pairs_blocked=len(now_allowed) - allowed_total,
        pairs_allowed=allowed_total,
        new_conflicts=counts["new"],
        resolved_conflicts=counts["resolved"],
    )
    return WhatIf(users, lists[False], lists[True], new_conflicts, resolved, totals)


def _check_users(before: Epoch, after: Epoch, added: Sequence[tuple[int, ...]]) -> None:
    count = len(before)
    if (
        len(after) != count + len(added)
        or (after.user_ids[:count] if added else after.user_ids) != before.user_ids
    ):
        raise ValueError("what-if needs two epochs over the same directory")


def _user_masks(
    before: Epoch, after: Epoch, added: Sequence[tuple[int, ...]] = ()
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per user: whether its segments (by name) change, was in conflict, is in conflict.

    Users are compared through their pair of profiles: each distinct pair (a few
    thousand at most) is compared once, by segment names, so a million users cost a few
    numpy passes instead of a million comparisons in Python. The ``added`` users' profiles
    before are found (or added) among ``before``'s.
    """
    profiles = list(before.profiles)
    conflict = before.conflict
    old = before.profile_array().astype(np.int64)
    if added:
        known = {p: i for i, p in enumerate(profiles)}
        extra: list[int] = []
        for segments in added:
            key = tuple(sorted(segments))
            if key not in known:
                known[key] = len(profiles)
                profiles.append(key)
            extra.append(known[key])
        limit = LIMITS[before.mode].max_segments_per_user
        grown = [len(p) > limit for p in profiles[len(before.profiles) :]]
        conflict = np.concatenate([conflict, np.array(grown, dtype=np.bool_)])
        old = np.concatenate([old, np.array(extra, dtype=np.int64)])
    new = after.profile_array().astype(np.int64)
    width = len(after.profiles)
    pairs, inverse = np.unique(old * width + new, return_inverse=True)
    old_names, new_names = before.segment_names, after.segment_names
    differs = np.array(
        [
            tuple(old_names[s] for s in profiles[int(p) // width])
            != tuple(new_names[s] for s in after.profiles[int(p) % width])
            for p in pairs.tolist()
        ],
        dtype=np.bool_,
    )
    moved = differs[inverse.reshape(-1)] if len(pairs) else np.zeros(len(after), np.bool_)
    return moved, conflict[old], after.conflict[new]


def user_changes(before: Epoch, after: Epoch) -> Iterator[SegmentChange]:
    """Every user whose segments change (no limit), in directory order: what
    ``apply --changes FILE`` writes."""
    if before.user_ids != after.user_ids:
        raise ValueError("what-if needs two epochs over the same directory")
    moved, _was, _now = _user_masks(before, after)
    for i in np.flatnonzero(moved).tolist():
        yield SegmentChange(after.upns[i], before.segments_of(i), after.segments_of(i))


def _rows(epoch: Epoch) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Matrix rows (segment names, then ``(none)``) and their profile numbers."""
    count = len(epoch.segment_names)
    return [*(fold(n) for n in epoch.segment_names), NO_SEGMENT], np.array(
        [*range(1, count + 1), UNSEGMENTED], dtype=np.int64
    )


def _name(epoch: Epoch, profile: int) -> str:
    return NO_SEGMENT if profile == UNSEGMENTED else epoch.segment_names[profile - 1]


def _flipped_pairs(
    before: Epoch, after: Epoch
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Row pairs (as ``after``'s profiles) whose verdict differs, and the new verdict.

    Found with numpy: a pair that did not exist before was not separated by anything (it
    counts as allowed). Only the pairs listed are explained, so a what-if over thousands
    of segments stays a matrix comparison.
    """
    old_names, old_profiles = _rows(before)
    new_names, new_profiles = _rows(after)
    now = after.compat[np.ix_(new_profiles, new_profiles)]
    was = np.ones_like(now)
    position = {n: i for i, n in enumerate(old_names)}
    kept = [(i, position[n]) for i, n in enumerate(new_names) if n in position]
    if kept:
        new_ix = np.array([k[0] for k in kept])
        old_ix = np.array([old_profiles[k[1]] for k in kept])
        was[np.ix_(new_ix, new_ix)] = before.compat[np.ix_(old_ix, old_ix)]
    rows, cols = np.nonzero(np.triu(now != was))
    return new_profiles[rows], new_profiles[cols], now[rows, cols]
