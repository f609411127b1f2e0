"""Patch an epoch for a few changed users instead of recompiling it (semantics §5).

A directory change takes effect at once. Recompiling a million users takes seconds; a
patch re-evaluates only the changed users' segments with the per-user evaluator, finds
or adds their profile, and copies the per-user arrays once. The result equals what
:func:`~infobarrier.core.compiler.compile_epoch` would build (a property test checks it).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from infobarrier.core.barriers import LIMITS, Mode
from infobarrier.core.compiler import profile_compat
from infobarrier.core.directory import User, fold
from infobarrier.core.epoch import Epoch, fast_tables
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


def segments_of_user(epoch: Epoch, user: User, member_of: Sequence[str]) -> tuple[int, ...]:
    """Indices of the epoch's segments whose filter the user satisfies."""
    values = user_values(user, member_of)

    def values_of(attribute: str) -> list[str]:
        return values.get(attribute, [])

    return tuple(
        s for s, segment in enumerate(epoch.config.segments) if matches(segment.expr, values_of)
    )


def patch_epoch(epoch: Epoch, changes: Sequence[tuple[User, Sequence[str]]]) -> Epoch | None:
    """The epoch with these users' new attributes, groups and account state.

    ``changes`` pairs each user with its ``MemberOf`` values (its groups' names, mails and
    ids). Returns ``None`` when a patch cannot express the change (a user the epoch does
    not know, or a changed UPN): the caller recompiles.
    """
    if not changes:
        return epoch
    profile_of = epoch.profile_of.copy()
    enabled = epoch.enabled.copy()
    hidden = epoch.hidden.copy()
    usable = epoch.usable.copy()
    profiles = list(epoch.profiles)
    known = {p: i for i, p in enumerate(profiles)}
    limit = LIMITS[epoch.mode].max_segments_per_user
    legacy = epoch.mode is Mode.LEGACY
    for user, member_of in changes:
        index = epoch.upn_index.get(fold(user.upn))
        if index is None or epoch.user_ids[index] != user.id:
            return None
        segments = segments_of_user(epoch, user, member_of)
        profile = known.get(segments)
        if profile is None:
            profile = known[segments] = len(profiles)
            profiles.append(segments)
        profile_of[index] = profile
        enabled[index] = user.account_enabled
        hidden[index] = user.is_hidden
        usable[index] = (
            user.account_enabled and len(segments) <= limit and not (legacy and user.is_hidden)
        )
    keys = array("i", epoch.keys)
    for user, _member_of in changes:
        index = epoch.upn_index[fold(user.upn)]
        keys[index] = int(profile_of[index]) if usable[index] else -1
    if len(profiles) == len(epoch.profiles):
        conflict, compat, table = epoch.conflict, epoch.compat, epoch.table
    else:
        conflict = np.array([len(p) > limit for p in profiles], dtype=np.bool_)
        compat = profile_compat(
            tuple(profiles), len(epoch.config.segments), epoch.permits, epoch.open, conflict
        )
        _keys, table, compat = fast_tables(usable, profile_of, compat)
    return replace(
        epoch,
        profile_of=profile_of,
        enabled=enabled,
        hidden=hidden,
        usable=usable,
        profiles=tuple(profiles),
        conflict=conflict,
        compat=compat,
        keys=keys,
        table=table,
        explanations=epoch.explanations,  # profile numbers keep their meaning
    )
