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
from infobarrier.core.compiler import grow_profile_compat
from infobarrier.core.directory import User, fold
from infobarrier.core.epoch import Epoch, Lineage, UserState, keys_by_upn
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op
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
class Guard:
    """Values one of which every user matching a filter has (a necessary condition).

    ``exact`` holds folded values (``-eq``, or ``-like`` without ``*``), ``prefixes``
    folded prefixes (``-like 'abc*...'``), both keyed by attribute. ``sufficient`` says the
    filter is exactly the disjunction of these atoms, so a hit needs no evaluation.
    """

    exact: frozenset[tuple[str, str]]
    prefixes: frozenset[tuple[str, str]]
    sufficient: bool


def guard_of(expr: Expr) -> Guard | None:
    """A guard for a filter, or ``None`` when no value lookup can rule users out.

    ``-ne``, ``-notlike``, ``-not``, ``-eq ''`` and patterns starting with ``*`` match users
    by what they lack, so they have none; an ``-and`` takes the guard of one operand (the
    others are then checked by evaluation), an ``-or`` the union of its operands' guards.
    """
    if isinstance(expr, Comparison):
        if expr.op is Op.EQ and expr.value:
            return Guard(frozenset({(expr.attribute, expr.value.casefold())}), frozenset(), True)
        if expr.op is Op.LIKE:
            pattern = expr.value.casefold()
            head, star, tail = pattern.partition("*")
            if not star:
                return Guard(frozenset({(expr.attribute, pattern)}), frozenset(), True)
            if head:
                only_prefix = tail == "" or set(tail) == {"*"}
                return Guard(frozenset(), frozenset({(expr.attribute, head)}), only_prefix)
        return None
    if isinstance(expr, Not):
        return None
    guards = [guard_of(operand) for operand in expr.operands]
    if isinstance(expr, And):
        usable = [g for g in guards if g is not None]
        if not usable:
            return None
        best = min(usable, key=lambda g: (len(g.prefixes), len(g.exact)))
        return Guard(best.exact, best.prefixes, False)
    if any(g is None for g in guards):
        return None
    present = [g for g in guards if g is not None]
    return Guard(
        frozenset().union(*(g.exact for g in present)),
        frozenset().union(*(g.prefixes for g in present)),
        all(g.sufficient for g in present),
    )


@dataclass(frozen=True, slots=True)
class SegmentMatcher:
    """The epoch's segment filters, arranged to evaluate one user quickly.

    Every filter with a :class:`Guard` (most: ``-eq``, prefix ``-like``, their ``-or``s and
    any ``-and`` with one of them) is found by looking the user's folded values up in a
    table; it is evaluated only when its guard is not the whole filter. Only filters
    without a guard (``-ne``, ``-not`` ...) are evaluated for every user. With 5,000
    segments this is what keeps a directory change under a millisecond (benchmarks/README.md).
    """

    exact: dict[str, dict[str, tuple[int, ...]]]
    prefixes: dict[str, tuple[tuple[int, ...], dict[str, tuple[int, ...]]]]
    #: Guarded segments whose filter must still be evaluated on a hit, with that filter.
    to_check: dict[int, Expr]
    others: tuple[tuple[int, Expr], ...]

    @classmethod
    def of(cls, epoch: Epoch) -> SegmentMatcher:
        """Built once per epoch (patches share it: the filters do not change)."""
        found: SegmentMatcher | None = epoch.derived.get("matcher")
        if found is None:
            found = epoch.derived["matcher"] = cls.build([s.expr for s in epoch.config.segments])
        return found

    @classmethod
    def build(cls, exprs: Sequence[Expr]) -> SegmentMatcher:
        """The tables for these filters; segment ``k`` is ``exprs[k]``."""
        exact: dict[str, dict[str, list[int]]] = {}
        prefixes: dict[str, dict[str, list[int]]] = {}
        to_check: dict[int, Expr] = {}
        others: list[tuple[int, Expr]] = []
        for s, expr in enumerate(exprs):
            guard = guard_of(expr)
            if guard is None:
                others.append((s, expr))
                continue
            for attribute, value in guard.exact:
                exact.setdefault(attribute, {}).setdefault(value, []).append(s)
            for attribute, head in guard.prefixes:
                prefixes.setdefault(attribute, {}).setdefault(head, []).append(s)
            if not guard.sufficient:
                to_check[s] = expr
        return cls(
            exact={a: {v: tuple(ss) for v, ss in t.items()} for a, t in exact.items()},
            prefixes={
                a: (tuple(sorted({len(h) for h in t})), {h: tuple(ss) for h, ss in t.items()})
                for a, t in prefixes.items()
            },
            to_check=to_check,
            others=tuple(others),
        )

    def segments(self, values: dict[str, list[str]]) -> tuple[int, ...]:
        """Indices of the segments whose filter these values satisfy, in order."""
        candidates: set[int] = set()
        for attribute, table in self.exact.items():
            for value in values.get(attribute, ()):
                found = table.get(value.casefold())
                if found:
                    candidates.update(found)
        for attribute, (lengths, heads) in self.prefixes.items():
            for value in values.get(attribute, ()):
                folded = value.casefold()
                for length in lengths:
                    if length > len(folded):
                        break
                    found = heads.get(folded[:length])
                    if found:
                        candidates.update(found)

        def values_of(attribute: str) -> list[str]:
            return values.get(attribute, [])

        check = self.to_check
        hits = {s for s in candidates if s not in check or matches(check[s], values_of)}
        hits.update(s for s, expr in self.others if matches(expr, values_of))
        return tuple(sorted(hits))


def segments_of_user(epoch: Epoch, user: User, member_of: Sequence[str]) -> tuple[int, ...]:
    """Indices of the epoch's segments whose filter the user satisfies."""
    return SegmentMatcher.of(epoch).segments(user_values(user, member_of))


#: Keys of ``Epoch.derived`` a patch keeps: the id index, the matcher and the profile
#: index do not depend on user state (a patch that adds a profile gives its epoch a new
#: profile index). Answers cached per :class:`~infobarrier.core.epoch.Lineage` follow the
#: lineage instead.
SHARED = frozenset({"ids", "matcher", "profiles"})


#: Past this many patched users, the per-user arrays are rebuilt and the overlay emptied
#: (the default of the setting ``overlay_limit``).
OVERLAY_LIMIT = 4096


def patch_epoch(
    epoch: Epoch,
    changes: Sequence[tuple[User, Sequence[str]]],
    *,
    overlay_limit: int | None = None,
) -> Epoch | None:
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
    known: dict[tuple[int, ...], int] | None = epoch.derived.get("profiles")
    if known is None:
        known = epoch.derived["profiles"] = {p: i for i, p in enumerate(profiles)}
    copied = False
    limit = LIMITS[epoch.mode].max_segments_per_user
    legacy = epoch.mode is Mode.LEGACY
    overlay = dict(epoch.overlay)
    overlay_keys = dict(epoch.overlay_keys)
    for user, member_of in changes:
        folded = fold(user.upn)
        index = epoch.upn_index.get(folded)
        if index is None or epoch.user_ids[index] != user.id:
            return None
        segments = segments_of_user(epoch, user, member_of)
        profile = known.get(segments)
        if profile is None:
            if not copied:  # the old epoch keeps its own index
                known, copied = dict(known), True
            profile = known[segments] = len(profiles)
            profiles.append(segments)
        usable = user.account_enabled and len(segments) <= limit and not (legacy and user.is_hidden)
        key = profile if usable else -1
        overlay[index] = UserState(profile, user.account_enabled, user.is_hidden, key)
        overlay_keys[folded] = key
    lineage = epoch.lineage
    if len(profiles) == len(epoch.profiles):
        conflict, compat, table = epoch.conflict, epoch.compat, epoch.table
    else:
        lineage = Lineage()  # new profile numbers: answers cached per lineage start over
        added = [len(p) > limit for p in profiles[len(epoch.profiles) :]]
        conflict = np.concatenate([epoch.conflict, np.array(added, dtype=np.bool_)])
        compat = grow_profile_compat(
            epoch.compat,
            tuple(profiles),
            len(epoch.config.segments),
            epoch.permits,
            epoch.open,
            conflict,
        )
        table = compat.tobytes()
        compat = np.frombuffer(table, dtype=np.bool_).reshape(compat.shape)
    shared = {k: v for k, v in epoch.derived.items() if k in SHARED}
    shared["profiles"] = known
    patched = replace(
        epoch,
        profiles=tuple(profiles),
        conflict=conflict,
        compat=compat,
        table=table,
        overlay=overlay,
        overlay_keys=overlay_keys,
        derived=shared,
        lineage=lineage,
    )
    limit = OVERLAY_LIMIT if overlay_limit is None else overlay_limit
    return _folded(patched) if len(overlay) > limit else patched


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
        upn_keys=keys_by_upn(epoch.upn_index, keys, len(epoch.profiles)),
        overlay={},
        overlay_keys={},
        derived={k: v for k, v in epoch.derived.items() if k in SHARED},
    )
