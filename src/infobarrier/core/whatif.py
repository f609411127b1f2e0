"""What an apply would change: the difference between two epochs over one directory (§5).

Both epochs must be compiled over the same directory, so user indices line up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infobarrier.core.epoch import Epoch
from infobarrier.core.matrix import segment_verdicts


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
        candidates = [int(i) for i in (before.profile_of != after.profile_of).nonzero()[0]]
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
    old_cells = {(c.a, c.b): c for c in segment_verdicts(before)}
    blocked: list[PairChange] = []
    allowed: list[PairChange] = []
    for cell in segment_verdicts(after):
        prior = old_cells.get((cell.a, cell.b))
        # A pair that did not exist before was not separated by anything.
        was_allowed = prior.allowed if prior is not None else True
        if cell.allowed != was_allowed:
            target = allowed if cell.allowed else blocked
            target.append(PairChange(cell.a, cell.b, cell.allowed, cell.reason))
    return WhatIf(users, blocked, allowed, new_conflicts, resolved)
