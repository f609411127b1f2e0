"""Compile (directory, applied segments and policies, mode) into an :class:`Epoch` (§5, §6).

Segment membership is bitset algebra over :class:`DirectoryColumns`; profiles are found
with numpy (never a Python loop over users per segment); the profile compatibility
table is matrix algebra over the segment-to-segment ``permits`` relation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import LIMITS, BarrierConfig, ListKind, Mode
from infobarrier.core.columns import DirectoryColumns, UserColumns
from infobarrier.core.directory import Directory, fold
from infobarrier.core.epoch import (
    UNSEGMENTED,
    Epoch,
    fast_tables,
    is_open,
    keys_by_upn,
    permits,
    upn_tables,
)
from infobarrier.core.packed import KeysByUpn, UpnIndex

#: ``progress(stage, done, total)``: called as compilation advances.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def segment_relation(config: BarrierConfig) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """``permits[s, t]`` and ``open[s]`` of §6 for the config's Active policies."""
    count = len(config.segments)
    index = {fold(s.name): i for i, s in enumerate(config.segments)}
    allowed = np.ones((count, count), dtype=np.bool_)
    opened = np.ones(count, dtype=np.bool_)
    for s, policy in enumerate(config.segment_policies()):
        if policy is None or not policy.is_active:
            continue
        listed = np.zeros(count, dtype=np.bool_)
        listed[[index[fold(n)] for n in policy.segments]] = True
        allowed[s] = listed if policy.kind is ListKind.ALLOW else ~listed
        opened[s] = is_open(policy, config.mode)
    return allowed, opened


def compile_epoch(
    directory: Directory, config: BarrierConfig, progress: Progress = _no_progress
) -> Epoch:
    """Build the epoch for ``config`` (only its Active policies count) over ``directory``."""
    users = list(directory.users())
    return compile_columns(
        DirectoryColumns(directory, users),
        config,
        ids=tuple(u.id for u in users),
        upns=tuple(u.upn for u in users),
        enabled=np.fromiter((u.account_enabled for u in users), dtype=np.bool_, count=len(users)),
        hidden=np.fromiter((u.is_hidden for u in users), dtype=np.bool_, count=len(users)),
        progress=progress,
    )


def compile_read(
    read: UserColumns, config: BarrierConfig, progress: Progress = _no_progress
) -> Epoch:
    """:func:`compile_epoch` over a directory read as columns (``apply``: no object per
    user); the same epoch as over the :class:`Directory` of the same users in that order.

    Its UPN index is the users' order by folded UPN (:class:`UpnIndex`, as a stored epoch
    has): a read lists them in that order (:class:`UserColumns`), so no dict of a million
    UPNs is built unless something looks many of them up (2.5 s at 1M users for two).
    """
    return compile_columns(
        read.columns(),
        config,
        ids=read.ids,
        upns=read.upns,
        enabled=read.enabled,
        hidden=read.hidden,
        progress=progress,
        searched=True,
    )


def compile_columns(
    columns: DirectoryColumns,
    config: BarrierConfig,
    *,
    ids: Sequence[str],
    upns: Sequence[str],
    enabled: npt.NDArray[np.bool_],
    hidden: npt.NDArray[np.bool_],
    folded: Sequence[str] | None = None,
    progress: Progress = _no_progress,
    searched: bool = False,
) -> Epoch:
    """The epoch of ``config`` over users given as columns (``folded``: their UPNs folded,
    when known; folded here otherwise; ``searched``: the users are listed in folded-UPN
    order, and UPNs are looked up by binary search over it, not by dict)."""
    config = config.active()
    n = len(ids)
    segments = config.segments
    s_count = len(segments)

    owners: list[npt.NDArray[np.int64]] = []
    for s, segment in enumerate(segments):
        owners.append(np.flatnonzero(columns.evaluate(segment.expr)))
        progress("segments", s + 1, s_count)

    profile_of, profiles = _profiles(n, owners, s_count)
    progress("profiles", 1, 1)

    limit = LIMITS[config.mode].max_segments_per_user
    conflict = np.array([len(p) > limit for p in profiles], dtype=np.bool_)
    relation, opened = segment_relation(config)
    compat = profile_compat(profiles, s_count, relation, opened, conflict)
    progress("compatibility", 1, 1)

    usable = enabled & ~conflict[profile_of]
    if config.mode is Mode.LEGACY:
        usable &= ~hidden
    keys, table, compat = fast_tables(usable, profile_of, compat)
    upn_index: Mapping[str, int]
    upn_keys: Mapping[str, int]
    if searched:
        index = UpnIndex(np.arange(n, dtype=np.int32), upns)
        upn_index, upn_keys = (
            index,
            KeysByUpn(
                index, keys.__getitem__, lambda: keys_by_upn(index.as_dict(), keys, len(profiles))
            ),
        )
    else:
        upn_index, upn_keys = upn_tables(upns, keys, len(profiles), folded)
    return Epoch(
        config=config,
        user_ids=ids,
        upns=upns,
        upn_index=upn_index,
        upn_keys=upn_keys,
        enabled=enabled,
        hidden=hidden,
        profile_of=profile_of,
        profiles=profiles,
        conflict=conflict,
        compat=compat,
        permits=relation,
        open=opened,
        usable=usable,
        keys=keys,
        table=table,
        names=tuple(s.name for s in segments),
        policies=config.segment_policies(),
    )


def _profiles(
    n: int, owners: list[npt.NDArray[np.int64]], s_count: int
) -> tuple[npt.NDArray[np.int32], tuple[tuple[int, ...], ...]]:
    """Group users by their exact set of segments.

    Profile 0 is "no segment", profile ``s + 1`` is exactly segment ``s``; users in
    several segments get further profiles, found exactly with ``np.unique`` over the
    padded, sorted rows of their segment ids.
    """
    profiles: list[tuple[int, ...]] = [(), *((s,) for s in range(s_count))]
    profile_of = np.zeros(n, dtype=np.int32)
    if not owners or n == 0:
        return profile_of, tuple(profiles)
    user_ix = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    seg_ix = np.concatenate([np.full(len(o), s, dtype=np.int32) for s, o in enumerate(owners)])
    counts = np.bincount(user_ix, minlength=n)
    single = counts == 1
    # Users in exactly one segment: profile = segment + 1.
    one = single[user_ix]
    profile_of[user_ix[one]] = seg_ix[one] + 1
    multi_users = np.flatnonzero(counts > 1)
    if len(multi_users):
        keep = counts[user_ix] > 1
        mu, ms = user_ix[keep], seg_ix[keep]
        order = np.lexsort((ms, mu))
        mu, ms = mu[order], ms[order]
        row_of = np.full(n, -1, dtype=np.int64)
        row_of[multi_users] = np.arange(len(multi_users))
        rows = row_of[mu]
        starts = np.searchsorted(mu, multi_users)
        rank = np.arange(len(mu)) - starts[rows]
        width = int(counts[multi_users].max())
        padded = np.full((len(multi_users), width), -1, dtype=np.int32)
        padded[rows, rank] = ms
        unique_rows, inverse = np.unique(padded, axis=0, return_inverse=True)
        base = len(profiles)
        profiles.extend(tuple(int(x) for x in row if x >= 0) for row in unique_rows)
        profile_of[multi_users] = base + inverse.reshape(-1).astype(np.int32)
    return profile_of, tuple(profiles)


#: Rows of the profile table computed at once (bounds the float32 temporary).
BLOCK = 1024


def profile_compat(
    profiles: tuple[tuple[int, ...], ...],
    s_count: int,
    relation: npt.NDArray[np.bool_],
    opened: npt.NDArray[np.bool_],
    conflict: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """``compat[p, q]`` of §6 for every pair of profiles (users assumed usable)."""
    p_count = len(profiles)
    mutual = relation & relation.T
    incidence = np.zeros((p_count, s_count), dtype=np.float32)
    for p, members in enumerate(profiles):
        if members:
            incidence[p, list(members)] = 1.0
    compat = np.zeros((p_count, p_count), dtype=np.bool_)
    # Segmented with segmented: some a in segs(u), b in segs(v) permitted both ways. With one
    # segment per profile (Legacy, SingleSegment) this is the single pair, as §6 asks.
    if s_count:
        compat[1 : s_count + 1, 1 : s_count + 1] = mutual
        if p_count > s_count + 1:
            mutual_f = mutual.astype(np.float32)
            first = s_count + 1
            # In blocks of rows, so the float temporary stays small however many profiles.
            for start in range(first, p_count, BLOCK):
                end = min(start + BLOCK, p_count)
                via = (incidence[start:end] @ mutual_f) @ incidence.T > 0
                compat[start:end, :] = via
                compat[:, start:end] = via.T
    # Only one side segmented: every segment of the segmented side must be open.
    closed = incidence @ (~opened).astype(np.float32) > 0
    compat[UNSEGMENTED, :] = ~closed
    compat[:, UNSEGMENTED] = ~closed
    compat[UNSEGMENTED, UNSEGMENTED] = True
    compat[conflict, :] = False
    compat[:, conflict] = False
    return compat


def grow_profile_compat(
    compat: npt.NDArray[np.bool_],
    profiles: tuple[tuple[int, ...], ...],
    s_count: int,
    relation: npt.NDArray[np.bool_],
    opened: npt.NDArray[np.bool_],
    conflict: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """:func:`profile_compat` when ``profiles`` extends the profiles of ``compat``.

    A directory change that puts a user in a set of segments no one had adds a profile
    (§5); only its row and column are new. Recomputing the whole P×P table instead cost
    65 ms per change at 1M users (benchmarks/README.md).
    """
    old, p_count = compat.shape[0], len(profiles)
    grown = np.zeros((p_count, p_count), dtype=np.bool_)
    grown[:old, :old] = compat
    mutual = relation & relation.T
    first = s_count + 1
    multi = profiles[first:]
    flat = np.fromiter((s for members in multi for s in members), dtype=np.intp)
    starts = np.cumsum([0] + [len(members) for members in multi[:-1]], dtype=np.intp)
    for q in range(old, p_count):
        if conflict[q]:
            continue  # in conflict: compatible with no one (row and column stay False)
        members = list(profiles[q])
        # Segments some member is mutually permitted with.
        reach: npt.NDArray[np.bool_] = np.logical_or.reduce(mutual[members], axis=0)
        row = np.empty(p_count, dtype=np.bool_)
        row[UNSEGMENTED] = not bool((~opened[members]).any())
        row[1:first] = reach
        if multi:
            row[first:] = np.logical_or.reduceat(reach[flat], starts)
        row &= ~conflict
        grown[q, :] = row
        grown[:, q] = row
    return grown


__all__ = [
    "Progress",
    "compile_columns",
    "compile_epoch",
    "compile_read",
    "grow_profile_compat",
    "permits",
    "profile_compat",
    "segment_relation",
]
