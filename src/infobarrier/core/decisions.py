"""Compatibility of two users (semantics §6) and the communications of §7, with reasons.

Every answer is a :class:`Verdict`: allowed or not, a stable ``code``, a sentence for a
person, and the policy and segment that decided. The boolean is a lookup in the
epoch's profile table; the explanation is computed once per kind of pair and cached.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from infobarrier.core.barriers import ListKind, Mode
from infobarrier.core.codes import ErrorCode, VerdictCode
from infobarrier.core.contract import (
    ALL_PAIRS,
    Action,
    Check,
    CheckError,
    Verdict,
    pairs_required,
    parse_action,
)
from infobarrier.core.epoch import UNSEGMENTED, Epoch, LineageCache, is_open
from infobarrier.core.errors import InfobarrierError, InvalidInput, NotFound

NO_SEGMENT = "(none)"


class Opening(Protocol):
    """An active wall-crossing exception, as a verdict names it (``core.exceptions``)."""

    @property
    def id(self) -> str: ...

    @property
    def end(self) -> datetime: ...

    @property
    def actions(self) -> tuple[Action, ...]: ...


class FoldedOpenings(Protocol):
    """Exceptions folded into one epoch's profile numbering (``core.exceptions.Folded``)."""

    @property
    def keys(self) -> array[int]: ...

    @property
    def count(self) -> int:
        """The number of base profiles ``P``: a key ``>= P`` is a user named by an
        exception of two users."""
        ...

    @property
    def width(self) -> int: ...

    @property
    def fragments(self) -> dict[int, Any]: ...

    @property
    def around(self) -> dict[Any, dict[int, Any]]:
        """Per caller's wrapping, the answers around each pair's UPNs (a batch's cache)."""
        ...

    @property
    def named(self) -> dict[int, Any]: ...

    @property
    def people(self) -> int: ...

    def split(self, pair: int) -> tuple[int, int, bool, bool]:
        """The base profiles of a pair of keys, whether an exception may open it, and
        whether an exception of two segments touches it."""
        ...


class Openings(Protocol):
    """The active exceptions at one instant (``core.exceptions.ActiveExceptions``)."""

    def folded(self, epoch: Epoch) -> FoldedOpenings:
        """The exceptions folded into ``epoch``'s profile numbering (the batch path)."""
        ...

    def opening(self, epoch: Epoch, u: int, v: int, action: Action | None) -> Opening | None:
        """The exception opening users ``u`` and ``v`` for ``action``, if any."""
        ...

    def touched(self, epoch: Epoch) -> tuple[bytes, bytes]:
        """Flags (1: yes) by user index, named by some exception of two users, and by profile
        pair ``p * len(epoch.profiles) + q``, touched by some exception of two segments."""
        ...

    def opener(self, epoch: Epoch) -> Callable[[int, int, int, int, Action | None], Opening | None]:
        """:meth:`opening` bound to ``epoch``: ``opens(u, v, p, q, action)`` for users
        ``u``, ``v`` of profiles ``p``, ``q`` (many questions against one epoch)."""
        ...


#: The verdict codes an exception may turn into an allow: segments and policies only.
OPENABLE = frozenset({VerdictCode.BLOCKED_BY_POLICY, VerdictCode.BLOCKED_UNSEGMENTED})
#: The two as plain names: reading an enum member is a descriptor call, hashing one a
#: Python-level ``__hash__``; compared by identity first, a blocked pair pays neither.
_BY_POLICY, _UNSEGMENTED = VerdictCode.BLOCKED_BY_POLICY, VerdictCode.BLOCKED_UNSEGMENTED


def utc_text(value: datetime) -> str:
    """``2026-12-01T09:00:00Z``."""
    return value.isoformat().replace("+00:00", "Z")


def _opened(verdict: Verdict, found: Opening, action: Action | None) -> Verdict:
    """``verdict`` (a block) turned into an allow by exception ``found`` (§11)."""
    names = ", ".join(a.value for a in found.actions)
    scope = f"for {action.value}" if action is not None else f"for {names} only"
    return Verdict(
        True,
        VerdictCode.ALLOWED_BY_EXCEPTION,
        f"exception {found.id} allows this {scope} until {utc_text(found.end)}; "
        f"without it: {verdict.reason}",
        verdict.pair,
        verdict.policy,
        verdict.segment,
        found.id,
        found.end,
    )


def _closes_first(a: Verdict, b: Verdict) -> bool:
    return a.exception_end is not None and (
        b.exception_end is None or a.exception_end < b.exception_end
    )


def _names(epoch: Epoch, profile: int) -> str:
    segs = [epoch.segment_names[s] for s in epoch.profiles[profile]]
    return ", ".join(repr(s) for s in segs) if segs else NO_SEGMENT


def _refusal(epoch: Epoch, a: int, b: int) -> tuple[str, str, str]:
    """(policy, segment, sentence) for the first direction of (a, b) that is not permitted."""
    names = epoch.segment_names
    for src, dst in ((a, b), (b, a)):
        policy = epoch.policy_of(src)
        if not epoch.permits[src, dst]:  # permits(policy, names[dst]), computed at compile
            assert policy is not None
            if policy.kind is ListKind.ALLOW:
                why = f"its allow list does not include {names[dst]!r}"
            else:
                why = f"its block list includes {names[dst]!r}"
            sentence = f"policy {policy.name!r} of segment {names[src]!r}: {why}"
            return policy.name, names[src], sentence
    raise AssertionError("pair is permitted both ways")  # pragma: no cover


#: Explanations per profile pair, per lineage: at most ``limit`` pairs each (about 300
#: bytes a pair; P x P pairs could be millions). The limit is the setting
#: ``explanations_kept``.
EXPLANATIONS: LineageCache[tuple[int, int], Verdict] = LineageCache(100_000)


def explain_profiles(epoch: Epoch, p: int, q: int) -> Verdict:
    """The verdict (without ``pair``) for two usable users of profiles ``p`` and ``q``,
    cached per lineage."""
    table = EXPLANATIONS.of(epoch)
    cached = table.get((p, q))
    if cached is None:
        cached = EXPLANATIONS.put(table, (p, q), _explain_uncached(epoch, p, q))
    return cached


def _explain_uncached(epoch: Epoch, p: int, q: int) -> Verdict:
    mode = epoch.mode
    if p == UNSEGMENTED and q == UNSEGMENTED:
        return Verdict(True, VerdictCode.UNSEGMENTED, "neither user is in a segment")
    if UNSEGMENTED in (p, q):
        seg_profile = q if p == UNSEGMENTED else p
        for s in epoch.profiles[seg_profile]:
            policy = epoch.policy_of(s)
            if not is_open(policy, mode):
                assert policy is not None
                name = epoch.segment_names[s]
                return Verdict(
                    False,
                    VerdictCode.BLOCKED_UNSEGMENTED,
                    f"policy {policy.name!r} of segment {name!r} is an allow list, and in "
                    "Legacy mode its members cannot reach users in no segment",
                    policy=policy.name,
                    segment=name,
                )
        return Verdict(
            True,
            VerdictCode.ONE_UNSEGMENTED,
            f"only one user is segmented ({_names(epoch, seg_profile)}) and no policy "
            "keeps that segment from users in no segment",
        )
    names = epoch.segment_names
    first_refusal: tuple[str, str, str] | None = None
    for a in epoch.profiles[p]:
        for b in epoch.profiles[q]:
            if epoch.permits[a, b] and epoch.permits[b, a]:
                how = (
                    f"segments {names[a]!r} and {names[b]!r} permit each other"
                    if a != b
                    else f"both users are in segment {names[a]!r}, which permits itself"
                )
                # Name a policy that was consulted, with its own segment.
                for s in (a, b):
                    policy = epoch.policy_of(s)
                    if policy is not None:
                        return Verdict(
                            True, VerdictCode.PERMITTED, how, policy=policy.name, segment=names[s]
                        )
                return Verdict(
                    True,
                    VerdictCode.PERMITTED,
                    how + " (no policy restricts them)",
                    segment=names[a],
                )
            if first_refusal is None:
                first_refusal = _refusal(epoch, a, b)
    assert first_refusal is not None
    policy_name, segment, sentence = first_refusal
    if mode is Mode.MULTI_SEGMENT and (len(epoch.profiles[p]) > 1 or len(epoch.profiles[q]) > 1):
        sentence = f"no segment of one user is permitted with a segment of the other; {sentence}"
    return Verdict(
        False, VerdictCode.BLOCKED_BY_POLICY, sentence, policy=policy_name, segment=segment
    )


def compatibility(
    epoch: Epoch,
    u: int,
    v: int,
    *,
    action: Action | None = None,
    openings: Openings | None = None,
) -> Verdict:
    """``compatible(u, v)`` of §6 for two users given by their epoch index.

    With ``openings``, a block from segments and policies that an active exception opens
    for ``action`` (``None``: for any action) is ``allowed_by_exception`` (§11).
    """
    verdict = _compatibility(epoch, u, v)
    if openings is not None and not verdict.allowed:
        code = verdict.code
        if code is _BY_POLICY or code is _UNSEGMENTED or code in OPENABLE:
            found = openings.opening(epoch, u, v, action)
            if found is not None:
                return _opened(verdict, found, action)
    return verdict


def _compatibility(epoch: Epoch, u: int, v: int) -> Verdict:
    pair = (epoch.upns[u], epoch.upns[v])
    if u == v:
        return Verdict(True, VerdictCode.SAME_USER, "a user can always reach themself", pair)
    blocking = blocking_user(epoch, u, v)
    if blocking is not None:
        return user_verdict(epoch, *blocking, pair)
    found = explain_profiles(epoch, epoch.profile(u), epoch.profile(v))
    return Verdict(found.allowed, found.code, found.reason, pair, found.policy, found.segment)


def blocking_user(epoch: Epoch, u: int, v: int) -> tuple[int, VerdictCode] | None:
    """The user of two distinct users whose own state refuses the pair before any segment
    is looked at (§6), and why: the first disabled one, else the first in conflict, else
    in Legacy mode the first hidden one; ``None`` when both are usable. The verdict then
    depends on that user alone (:func:`user_verdict`), so a batch keeps it per user."""
    for x in (u, v):
        if not epoch.is_enabled(x):
            return x, VerdictCode.ACCOUNT_DISABLED
    for x in (u, v):
        if epoch.in_conflict(x):
            return x, VerdictCode.POLICY_CONFLICT
    if epoch.mode is Mode.LEGACY:
        for x in (u, v):
            if epoch.is_hidden(x):
                return x, VerdictCode.HIDDEN
    return None


def user_verdict(epoch: Epoch, x: int, code: VerdictCode, pair: tuple[str, str] | None) -> Verdict:
    """The refusal of every pair :func:`blocking_user` names user ``x`` for, with ``code``:
    it names the user (and, in conflict, the segments of their profile)."""
    upn = epoch.upns[x]
    if code is VerdictCode.ACCOUNT_DISABLED:
        return Verdict(False, code, f"{upn} is disabled", pair)
    if code is VerdictCode.POLICY_CONFLICT:
        segs = ", ".join(repr(s) for s in epoch.segments_of(x))
        return Verdict(
            False,
            code,
            f"{upn} is in IBPolicyConflict (matches segments {segs}; "
            f"{epoch.mode.value} mode allows fewer): blocked until fixed",
            pair,
        )
    return Verdict(
        False, code, f"{upn} is hidden from address lists, which Legacy mode blocks", pair
    )


def compatible_many(
    epoch: Epoch, u: npt.NDArray[np.intp], v: npt.NDArray[np.intp]
) -> npt.NDArray[np.bool_]:
    """Vectorised ``compatible`` for arrays of user indices (no reasons)."""
    same = u == v
    usable, profile_of = epoch.usable_array(), epoch.profile_array()
    ok = usable[u] & usable[v] & epoch.compat[profile_of[u], profile_of[v]]
    return np.asarray(same | ok, dtype=np.bool_)


def _check_shape(action: Action, sender: int, others: Sequence[int]) -> int:
    """Refuse a malformed check; return how many pairs it requires.

    The number is not bounded here: in-process callers (a chat platform's module) may
    check rooms of any size, which :func:`decide` does without building the pairs. A
    request is bounded where it is read (``contract.read_body``: 413).
    """
    if action in (Action.CHAT, Action.SHARE_FILE) and len(others) != 1:
        raise InvalidInput(f"{action.value} takes exactly one 'to' user, got {len(others)}")
    if not others:
        raise InvalidInput(f"{action.value} needs at least one 'to' user")
    if sender in others:
        raise InvalidInput("the 'from' user is also in 'to'")
    if len(set(others)) != len(others):
        raise InvalidInput("a user appears twice in 'to'")
    return pairs_required(action.value, len(others))


def iter_pairs(action: Action, sender: int, others: Sequence[int]) -> Iterator[tuple[int, int]]:
    """The pairs §7 requires to be compatible, in the order a refusal reports them,
    generated one at a time (a check stops at its first blocked pair)."""
    _check_shape(action, sender, others)
    return _pairs(action, sender, others)


def _pairs(action: Action, sender: int, others: Sequence[int]) -> Iterator[tuple[int, int]]:
    for o in others:
        yield sender, o
    if action in ALL_PAIRS:
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                yield a, b


def _first_blocked(epoch: Epoch, others: Sequence[int]) -> tuple[int, int]:
    """The first pair among ``others`` (in :func:`iter_pairs` order) that is not
    compatible, when one is known to exist and every one of them is usable.

    No pair is built: per distinct profile ``k`` of the recipients, one array says which
    recipients ``k`` is blocked with and, for every position, the next such recipient;
    the earliest recipient with one after it gives the pair. Work grows with recipients
    times distinct profiles, not with the square of the recipients.
    """
    n = len(others)
    keys = np.fromiter((epoch.key(o) for o in others), dtype=np.intp, count=n)
    positions = np.arange(n, dtype=np.intp)
    best: tuple[int, int] = (n, n)
    for k in np.unique(keys):
        blocked_with = np.where(~epoch.compat[k, keys], positions, n)
        next_blocked = np.minimum.accumulate(blocked_with[::-1])[::-1]  # first at or after p
        mine = np.flatnonzero(keys[:-1] == k)
        after = next_blocked[mine + 1]
        hits = np.flatnonzero(after < n)
        if len(hits) and int(mine[hits[0]]) < best[0]:
            best = (int(mine[hits[0]]), int(after[hits[0]]))
    assert best[0] < n, "no blocked pair among the recipients"
    return others[best[0]], others[best[1]]


def pairs_for(action: Action, sender: int, others: Sequence[int]) -> list[tuple[int, int]]:
    """:func:`iter_pairs` as a list (small checks and tests)."""
    return list(iter_pairs(action, sender, others))


def decide(
    epoch: Epoch,
    action: Action,
    sender: int,
    others: Sequence[int],
    *,
    people_search_restriction: bool = True,
    openings: Openings | None = None,
) -> Verdict:
    """A check of §7: allowed only when every required pair is compatible (or opened by
    an active exception for ``action``, §11).

    ``people_search_restriction`` is the tenant's live setting (§1): when Disabled,
    ``search`` is always allowed. ``add-team-member`` is decided by the service, which
    knows the team; here it is the ``Implicit`` rule (``sender`` is the newcomer and
    ``others`` the members).
    """
    total = _check_shape(action, sender, others)
    if action is Action.SEARCH and not people_search_restriction:
        return Verdict(True, VerdictCode.SEARCH_UNRESTRICTED, "PeopleSearchRestriction is Disabled")
    if total == 1:
        return compatibility(epoch, sender, others[0], action=action, openings=openings)
    allowed = epoch.allowed
    # Among the recipients: one look per pair of distinct profiles says whether any pair
    # is blocked; no pair among them is built unless one is.
    blocked_among = action in ALL_PAIRS and not epoch.all_allowed(others)
    if openings is None:
        for o in others:
            if not allowed(sender, o):  # the fast path finds the pair; the explanation names it
                return compatibility(epoch, sender, o)
        if blocked_among:
            return compatibility(epoch, *_first_blocked(epoch, others))
        return Verdict(True, VerdictCode.ALL_COMPATIBLE, f"all {total} pairs are compatible")
    # With exceptions, every blocked pair is looked at: one not opened refuses, and the
    # allow names the exception that closes first.
    pairs = _pairs(action, sender, others) if blocked_among else ((sender, o) for o in others)
    opened: Verdict | None = None
    for a, b in pairs:
        if not allowed(a, b):
            verdict = compatibility(epoch, a, b, action=action, openings=openings)
            if not verdict.allowed:
                return verdict
            if opened is None or _closes_first(verdict, opened):
                opened = verdict
    if opened is not None:
        return Verdict(
            True,
            VerdictCode.ALLOWED_BY_EXCEPTION,
            f"all {total} pairs are compatible, some only by exception; "
            f"the first to close: {opened.reason}",
            opened.pair,
            opened.policy,
            opened.segment,
            opened.exception,
            opened.exception_end,
        )
    return Verdict(True, VerdictCode.ALL_COMPATIBLE, f"all {total} pairs are compatible")


def user_index(epoch: Epoch, upn: str) -> int:
    """A user's index in the epoch by UPN; an unknown user is an error, never a yes."""
    index = epoch.index_of(upn)
    if index is None:
        raise NotFound(f"no user {upn!r}", code=ErrorCode.UNKNOWN_USER)
    return index


def decide_check(
    epoch: Epoch,
    check: Check,
    *,
    people_search_restriction: bool = True,
    openings: Openings | None = None,
) -> Verdict:
    """A parsed check against an epoch; bad input (an unknown action or user, ``from``
    inside ``to``) raises."""
    action = parse_action(check["action"])
    if action is Action.ADD_TEAM_MEMBER:
        raise InvalidInput(
            "add-team-member depends on the team's mode and members: use the teams API"
        )
    sender = user_index(epoch, check["from"])
    others = [user_index(epoch, upn) for upn in check["to"]]
    return decide(
        epoch,
        action,
        sender,
        others,
        people_search_restriction=people_search_restriction,
        openings=openings,
    )


def answer(
    epoch: Epoch,
    check: Check | CheckError,
    *,
    people_search_restriction: bool = True,
    openings: Openings | None = None,
) -> Verdict | CheckError:
    """One item of a batch: its verdict, or the error answered in its place."""
    if isinstance(check, CheckError):
        return check
    try:
        return decide_check(
            epoch, check, people_search_restriction=people_search_restriction, openings=openings
        )
    except InfobarrierError as exc:
        return CheckError(exc.code, exc.message)
