"""What an apply would change: the difference between two epochs over one directory (§5).

Both epochs must be compiled over the same directory, so user indices line up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The preview of an apply; nothing has changed when you read it."""

    users_changed: list[SegmentChange] = field(default_factory=list)
    pairs_blocked: list[PairChange] = field(default_factory=list)
    pairs_allowed: list[PairChange] = field(default_factory=list)
    new_conflicts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    resolved_conflicts: list[str] = field(default_factory=list)

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
        }


def diff(before: Epoch, after: Epoch) -> WhatIf:
    """Users whose segments change, segment pairs that flip, conflicts that appear or go."""
    if before.user_ids != after.user_ids:
        raise ValueError("what-if needs two epochs over the same directory")
    users: list[SegmentChange] = []
    new_conflicts: list[tuple[str, tuple[str, ...]]] = []
    resolved: list[str] = []
    if before.segment_names == after.segment_names:
        changed = before.profile_array() != after.profile_array()
        candidates = [int(i) for i in changed.nonzero()[0]]
    else:  # profile numbers differ between the epochs: compare every user
        candidates = list(range(len(after)))
    for i in candidates:
        old, new = before.segments_of(i), after.segments_of(i)
        if old != new:
            users.append(SegmentChange(after.upns[i], old, new))
        was, now = before.in_conflict(i), after.in_conflict(i)
        if now and not was:
            new_conflicts.append((after.upns[i], new))
        elif was and not now:
            resolved.append(after.upns[i])
    blocked: list[PairChange] = []
    allowed: list[PairChange] = []
    for a, b, now in _flipped_pairs(before, after):
        reason = explain_profiles(after, a, b)[2]
        row = _name(after, a), _name(after, b)
        target = allowed if now else blocked
        target.append(PairChange(row[0], row[1], now, reason))
    return WhatIf(users, blocked, allowed, new_conflicts, resolved)


def _rows(epoch: Epoch) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Matrix rows (segment names, then ``(none)``) and their profile numbers."""
    count = len(epoch.segment_names)
    return [*(fold(n) for n in epoch.segment_names), NO_SEGMENT], np.array(
        [*range(1, count + 1), UNSEGMENTED], dtype=np.int64
    )


def _name(epoch: Epoch, profile: int) -> str:
    return NO_SEGMENT if profile == UNSEGMENTED else epoch.segment_names[profile - 1]


def _flipped_pairs(before: Epoch, after: Epoch) -> list[tuple[int, int, bool]]:
    """Row pairs (as ``after``'s profiles) whose verdict differs, found with numpy.

    A pair that did not exist before was not separated by anything: it counts as allowed.
    Only the pairs that flip are explained, so a what-if over thousands of segments stays
    a matrix comparison.
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
    flips = np.argwhere(np.triu(now != was))
    return [(int(new_profiles[i]), int(new_profiles[j]), bool(now[i, j])) for i, j in flips]
