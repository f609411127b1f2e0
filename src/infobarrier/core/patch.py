"""Patch an epoch for a few changed users instead of recompiling it (semantics §5).

A directory change takes effect at once. Recompiling a million users takes seconds; a
patch re-evaluates only the changed users' segments with the per-user evaluator, finds
or adds their profile, and copies the per-user arrays once. The result equals what
:func:`~infobarrier.core.compiler.compile_epoch` would build (a property test checks it).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from infobarrier.core.barriers import LIMITS, Mode
from infobarrier.core.compiler import profile_compat
from infobarrier.core.directory import User, fold
from infobarrier.core.epoch import Epoch, UserState
from infobarrier.core.filters.ast import Comparison, Expr, Op
from infobarrier.core.filters.evaluate import matches


def user_values(user: User, member_of: Sequence[str]) -> dict[str, list[str]]:
    """Non-empty values of every attribute a filter may read, for one user."""
    values: dict[str, list[str]] = {
        "UserPrincipalName": [user.upn],
        "Mail": [user.mail] if user.mail else [],
        "ProxyAddresses": [p for p in user.proxy_addresses if p],
        "MemberOf": [m for m in member_of if m],
    }
    for name, value in user.attributes.items():
        if value:
            values[name] = [value]
    return values


@dataclass(frozen=True, slots=True)
class SegmentMatcher:
    """The epoch's segment filters, arranged to evaluate one user quickly.

    A filter that is a single ``Attr -eq 'value'`` (most are) is found by looking up the
    user's values in a table; only the other filters are evaluated one by one.
    """

    by_value: dict[str, dict[str, list[int]]]
    others: list[tuple[int, Expr]]

    @classmethod
    def of(cls, epoch: Epoch) -> SegmentMatcher:
        """Built once per epoch (patches share it: the filters do not change)."""
        found: SegmentMatcher | None = epoch.derived.get("matcher")
        if found is None:
            by_value: dict[str, dict[str, list[int]]] = {}
            others: list[tuple[int, Expr]] = []
            for s, segment in enumerate(epoch.config.segments):
                expr = segment.expr
                if isinstance(expr, Comparison) and expr.op is Op.EQ and expr.value:
                    table = by_value.setdefault(expr.attribute, {})
                    table.setdefault(expr.value.casefold(), []).append(s)
                else:
                    others.append((s, expr))
            found = epoch.derived["matcher"] = cls(by_value, others)
        return found

    def segments(self, values: dict[str, list[str]]) -> tuple[int, ...]:
        """Indices of the segments whose filter these values satisfy, in order."""
        hits: set[int] = set()
        for attribute, table in self.by_value.items():
            for value in values.get(attribute, ()):
                hits.update(table.get(value.casefold(), ()))

        def values_of(attribute: str) -> list[str]:
            return values.get(attribute, [])

        hits.update(s for s, expr in self.others if matches(expr, values_of))
        return tuple(sorted(hits))


def segments_of_user(epoch: Epoch, user: User, member_of: Sequence[str]) -> tuple[int, ...]:
    """Indices of the epoch's segments whose filter the user satisfies."""
    return SegmentMatcher.of(epoch).segments(user_values(user, member_of))


#: Derived data a patch keeps: the id index and the matcher do not depend on user state.
SHARED = ("ids", "matcher")

#: Past this many patched users, the per-user arrays are rebuilt and the overlay emptied.
OVERLAY_LIMIT = 4096


def patch_epoch(epoch: Epoch, changes: Sequence[tuple[User, Sequence[str]]]) -> Epoch | None:
    """The epoch with these users' new attributes, groups and account state.

    ``changes`` pairs each user with its ``MemberOf`` values (its groups' names, mails and
    ids). Returns ``None`` when a patch cannot express the change (a user the epoch does
    not know, or a changed UPN): the caller recompiles.

    The per-user arrays are shared with the old epoch; the changed users' state goes into
    the new epoch's :attr:`~Epoch.overlay`, so one user's change costs microseconds, not a
    copy of every array (folded back into fresh arrays once the overlay grows large).
    """
    if not changes:
        return epoch
    profiles = list(epoch.profiles)
    known = {p: i for i, p in enumerate(profiles)}
    limit = LIMITS[epoch.mode].max_segments_per_user
    legacy = epoch.mode is Mode.LEGACY
    overlay = dict(epoch.overlay)
    for user, member_of in changes:
        index = epoch.upn_index.get(fold(user.upn))
        if index is None or epoch.user_ids[index] != user.id:
            return None
        segments = segments_of_user(epoch, user, member_of)
        profile = known.get(segments)
        if profile is None:
            profile = known[segments] = len(profiles)
            profiles.append(segments)
        usable = user.account_enabled and len(segments) <= limit and not (legacy and user.is_hidden)
        overlay[index] = UserState(
            profile, user.account_enabled, user.is_hidden, profile if usable else -1
        )
    if len(profiles) == len(epoch.profiles):
        conflict, compat, table = epoch.conflict, epoch.compat, epoch.table
    else:
        conflict = np.array([len(p) > limit for p in profiles], dtype=np.bool_)
        compat = profile_compat(
            tuple(profiles), len(epoch.config.segments), epoch.permits, epoch.open, conflict
        )
        table = compat.tobytes()
        compat = np.frombuffer(table, dtype=np.bool_).reshape(compat.shape)
    shared = {k: v for k, v in epoch.derived.items() if k in SHARED}
    patched = replace(
        epoch,
        profiles=tuple(profiles),
        conflict=conflict,
        compat=compat,
        table=table,
        overlay=overlay,
        derived=shared,
        explanations=epoch.explanations,  # profile numbers keep their meaning
    )
    return _folded(patched) if len(overlay) > OVERLAY_LIMIT else patched


def _folded(epoch: Epoch) -> Epoch:
    """The same epoch with its overlay written into fresh per-user arrays."""
    profile_of = epoch.profile_array()
    usable = epoch.usable_array()
    enabled = epoch.enabled.copy()
    hidden = epoch.hidden.copy()
    for index, state in epoch.overlay.items():
        enabled[index] = state.enabled
        hidden[index] = state.hidden
    keys = array("i")
    keys.frombytes(np.where(usable, profile_of, -1).astype(np.int32).tobytes())
    return replace(
        epoch,
        profile_of=profile_of,
        usable=usable,
        enabled=enabled,
        hidden=hidden,
        keys=keys,
        overlay={},
        derived={k: v for k, v in epoch.derived.items() if k in SHARED},
    )
