"""Wall-crossing exceptions: time-boxed, approved openings in the barrier (semantics §11).

An *exception* (here :class:`WallException`, not a Python exception) lets two named users,
or every member of one segment with every member of another, do the actions it names for
a window of time. It is requested by one person and approved by another (four eyes).

States and transitions (anything else is an error and changes nothing)::

    requested --approve--> approved --revoke--> revoked
        |                     |
        +--reject--> rejected +--(end reached)--> expired
        +--(end reached, never approved)--> expired

An approved exception is *active* while ``start <= now < end``: decisions compare with the
clock, so it closes at its end without anyone acting; the expiry sweep only records it.

Only blocks from segments and policies are opened (``blocked_by_policy`` and
``blocked_unsegmented``): a disabled account, a user in ``IBPolicyConflict`` or a hidden
user in Legacy mode stays blocked (fail closed).

:class:`ExceptionIndex` is what decisions consult, and only for a pair the barrier
blocks: user pairs and segment pairs to the approved exceptions naming them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from infobarrier.core.codes import ErrorCode
from infobarrier.core.collaboration import Call, Chat, ChatKind, CollabObject, Meeting, Team
from infobarrier.core.contract import Action, parse_action
from infobarrier.core.decisions import OPENABLE
from infobarrier.core.directory import fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import Conflict, InfobarrierError, InvalidInput

#: The longest window a tenant allows unless it sets its own.
DEFAULT_MAX_WINDOW = timedelta(days=30)

#: The longest justification kept.
MAX_JUSTIFICATION = 2000


class FourEyes(InfobarrierError):
    """An exception's requester tried to approve it (403 over HTTP)."""

    code = ErrorCode.FOUR_EYES


class State(StrEnum):
    """Where an exception is in its life."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


#: States from which nothing moves any more.
FINAL = frozenset({State.REJECTED, State.REVOKED, State.EXPIRED})


def utc(value: datetime) -> datetime:
    """An aware datetime in UTC (a naive one is taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(text: str, what: str) -> datetime:
    """An ISO 8601 date or date-time (``Z`` or an offset; none means UTC), or a clear error."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise InvalidInput(
            f"{what} {text!r} is not an ISO 8601 date or time (e.g. 2026-12-01T09:00:00Z)"
        ) from None
    return utc(value)


def iso(value: datetime) -> str:
    """``2026-12-01T09:00:00Z`` (UTC, seconds; microseconds when there are any)."""
    return utc(value).isoformat().replace("+00:00", "Z")


def parse_actions(names: Iterable[str]) -> tuple[Action, ...]:
    """Distinct actions in a stable order, or a clear error (unknown action, none given)."""
    found = {parse_action(n) for n in names if n.strip()}
    if not found:
        raise InvalidInput("an exception names at least one action (e.g. chat, call)")
    return tuple(a for a in Action if a in found)


@dataclass(frozen=True, slots=True)
class WallException:
    """One exception to the barrier, in any state (see the module's transitions).

    ``users`` are user ids (``upns`` their UPNs when requested, for people to read);
    ``segments`` are segment names. Exactly one of ``users`` and ``segments`` is set.
    """

    id: str
    users: tuple[str, str] | None
    upns: tuple[str, str] | None
    segments: tuple[str, str] | None
    actions: tuple[Action, ...]
    start: datetime
    end: datetime
    justification: str
    requester: str
    requested_at: datetime
    state: State = State.REQUESTED
    approver: str | None = None
    approved_at: datetime | None = None
    #: Who rejected or revoked it, when it left the requested/approved states, and why.
    closed_by: str | None = None
    closed_at: datetime | None = None
    note: str = ""

    def is_active(self, now: datetime) -> bool:
        """Approved and ``start <= now < end``."""
        return self.state is State.APPROVED and self.start <= now < self.end

    def is_due(self, now: datetime) -> bool:
        """Still requested or approved, but its window has ended: the sweep expires it."""
        return self.state in (State.REQUESTED, State.APPROVED) and self.end <= now

    def covers(self, action: Action | None) -> bool:
        """Names ``action`` (``None``: any action, the relationship of §6)."""
        return action is None or action in self.actions

    def scope(self) -> str:
        """``users a@x and b@x`` or ``segments 'A' and 'B'``."""
        if self.upns is not None:
            return f"users {self.upns[0]} and {self.upns[1]}"
        assert self.segments is not None
        return f"segments {self.segments[0]!r} and {self.segments[1]!r}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``from_json`` reads it back)."""
        return {
            "id": self.id,
            "users": list(self.users) if self.users else None,
            "upns": list(self.upns) if self.upns else None,
            "segments": list(self.segments) if self.segments else None,
            "actions": [a.value for a in self.actions],
            "start": iso(self.start),
            "end": iso(self.end),
            "justification": self.justification,
            "requester": self.requester,
            "requested_at": iso(self.requested_at),
            "state": self.state.value,
            "approver": self.approver,
            "approved_at": iso(self.approved_at) if self.approved_at else None,
            "closed_by": self.closed_by,
            "closed_at": iso(self.closed_at) if self.closed_at else None,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WallException:
        """The exception of :meth:`to_json`."""

        def pair(value: Any) -> tuple[str, str] | None:
            return (str(value[0]), str(value[1])) if value else None

        def when(value: Any) -> datetime | None:
            return parse_time(value, "time") if value else None

        return cls(
            id=str(data["id"]),
            users=pair(data.get("users")),
            upns=pair(data.get("upns")),
            segments=pair(data.get("segments")),
            actions=parse_actions(data["actions"]),
            start=parse_time(data["start"], "start"),
            end=parse_time(data["end"], "end"),
            justification=str(data["justification"]),
            requester=str(data["requester"]),
            requested_at=parse_time(data["requested_at"], "requested_at"),
            state=State(data["state"]),
            approver=data.get("approver"),
            approved_at=when(data.get("approved_at")),
            closed_by=data.get("closed_by"),
            closed_at=when(data.get("closed_at")),
            note=str(data.get("note") or ""),
        )


# -- requests and transitions (pure: each returns a new value or raises) ----------------------


def _person(name: str, what: str) -> str:
    person = name.strip()
    if not person:
        raise InvalidInput(f"{what} is required: say who acts (four eyes need names)")
    if len(person) > 256 or not person.isprintable():
        raise InvalidInput(f"{what} must be a printable name of at most 256 characters")
    return person


def check_window(
    start: datetime, end: datetime, now: datetime, max_window: timedelta = DEFAULT_MAX_WINDOW
) -> None:
    """A window must end after it starts, after now, and be at most ``max_window`` long."""
    if end <= now:
        raise InvalidInput(f"the window lies in the past: it ends at {iso(end)}")
    if end <= start:
        raise InvalidInput(f"the window ends ({iso(end)}) before it starts ({iso(start)})")
    if end - start > max_window:
        raise InvalidInput(
            f"the window is {end - start} long; this tenant allows at most {max_window}"
        )


def new_request(
    *,
    id: str,
    users: tuple[tuple[str, str], tuple[str, str]] | None = None,
    segments: tuple[str, str] | None = None,
    actions: Sequence[str],
    start: datetime,
    end: datetime,
    justification: str,
    requester: str,
    now: datetime,
    max_window: timedelta = DEFAULT_MAX_WINDOW,
) -> WallException:
    """A requested exception; ``users`` are ``((id, upn), (id, upn))`` of known users,
    ``segments`` the names of known segments (the caller resolves and checks both)."""
    if (users is None) == (segments is None):
        raise InvalidInput("an exception names either two users or two segments")
    if users is not None and users[0][0] == users[1][0]:
        raise InvalidInput("an exception names two different users")
    if segments is not None and fold(segments[0]) == fold(segments[1]):
        raise InvalidInput("an exception names two different segments")
    why = justification.strip()
    if not why:
        raise InvalidInput("an exception needs a justification (--why)")
    if len(why) > MAX_JUSTIFICATION:
        raise InvalidInput(f"the justification is longer than {MAX_JUSTIFICATION} characters")
    start, end, now = utc(start), utc(end), utc(now)
    check_window(start, end, now, max_window)
    return WallException(
        id=id,
        users=(users[0][0], users[1][0]) if users else None,
        upns=(users[0][1], users[1][1]) if users else None,
        segments=segments,
        actions=parse_actions(actions),
        start=start,
        end=end,
        justification=why,
        requester=_person(requester, "the requester"),
        requested_at=now,
    )


def _expect(exc: WallException, wanted: State, doing: str) -> None:
    if exc.state is not wanted:
        raise Conflict(
            f"exception {exc.id} is {exc.state.value}: only a {wanted.value} exception can be "
            f"{doing}",
            code=ErrorCode.EXCEPTION_STATE,
        )


def approve(exc: WallException, approver: str, now: datetime) -> WallException:
    """Approve a request: by someone other than the requester, before its window ends."""
    person = _person(approver, "the approver")
    _expect(exc, State.REQUESTED, "approved")
    if fold(person) == fold(exc.requester):
        raise FourEyes(
            f"{person} requested exception {exc.id} and cannot approve it: another person must"
        )
    if exc.end <= now:
        raise Conflict(
            f"exception {exc.id}'s window ended at {iso(exc.end)}: it can no longer be approved",
            code=ErrorCode.EXCEPTION_STATE,
        )
    return replace(exc, state=State.APPROVED, approver=person, approved_at=utc(now))


def reject(exc: WallException, actor: str, now: datetime, note: str = "") -> WallException:
    """Reject a request (nothing was ever opened)."""
    person = _person(actor, "the actor")
    _expect(exc, State.REQUESTED, "rejected")
    return replace(exc, state=State.REJECTED, closed_by=person, closed_at=utc(now), note=note)


def revoke(exc: WallException, actor: str, now: datetime, note: str = "") -> WallException:
    """Revoke an approved exception (active or not yet started): it closes at once."""
    person = _person(actor, "the actor")
    _expect(exc, State.APPROVED, "revoked")
    return replace(exc, state=State.REVOKED, closed_by=person, closed_at=utc(now), note=note)


def expire(exc: WallException, now: datetime) -> WallException:
    """Record that the window of a requested or approved exception has ended."""
    if not exc.is_due(now):
        raise Conflict(f"exception {exc.id} is not due to expire", code=ErrorCode.EXCEPTION_STATE)
    return replace(exc, state=State.EXPIRED, closed_by="(expiry)", closed_at=exc.end)


# -- the index decisions consult ------------------------------------------------------------


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class ExceptionIndex:
    """Approved exceptions by user-id pair and by folded segment-name pair.

    Built once per state of the tenant's exceptions; :meth:`opening` answers for a given
    clock. Empty (falsy) when the tenant has no approved exception.
    """

    __slots__ = ("_folded", "_resolved", "boundaries", "by_segments", "by_users", "exceptions")

    def __init__(self, exceptions: Iterable[WallException] = ()) -> None:
        self.exceptions = tuple(e for e in exceptions if e.state is State.APPROVED)
        self.by_users: dict[tuple[str, str], list[WallException]] = {}
        self.by_segments: dict[tuple[str, str], list[WallException]] = {}
        for exc in self.exceptions:
            if exc.users is not None:
                self.by_users.setdefault(_key(*exc.users), []).append(exc)
            else:
                assert exc.segments is not None
                key = _key(fold(exc.segments[0]), fold(exc.segments[1]))
                self.by_segments.setdefault(key, []).append(exc)
        #: Every start and end, sorted: the instants at which decisions change by the clock.
        self.boundaries = tuple(sorted(t for e in self.exceptions for t in (e.start, e.end)))
        self._resolved: _Resolved | None = None
        self._folded: Folded | None = None

    def folded(self, epoch: Epoch) -> Folded:
        """The index folded into ``epoch``'s profile numbering (:class:`Folded`), built
        once per epoch."""
        found = self._folded
        if found is None or found.epoch is not epoch:
            found = self._folded = Folded(epoch, self.resolved(epoch))
        return found

    def passed(self, now: datetime) -> int:
        """How many starts and ends have passed at ``now``: two instants with the same
        count get the same decisions (the clock's part of the decision state, §11)."""
        return bisect_right(self.boundaries, utc(now))

    def resolved(self, epoch: Epoch) -> _Resolved:
        """The index in ``epoch``'s numbering (built once per epoch's users and segments;
        a patched epoch shares both, so it shares this too)."""
        found = self._resolved
        if (
            found is not None
            and found.user_ids is epoch.user_ids
            and found.names is epoch.segment_names
            and found.profiles is epoch.profiles
        ):
            return found
        found = _Resolved.build(self, epoch)
        self._resolved = found
        return found

    def __bool__(self) -> bool:
        return bool(self.exceptions)

    def __len__(self) -> int:
        return len(self.exceptions)

    def at(self, now: datetime) -> ActiveExceptions | None:
        """What decisions consult at ``now``; ``None`` when nothing is approved."""
        return ActiveExceptions(self, utc(now)) if self.exceptions else None


@dataclass(frozen=True, slots=True)
class _Resolved:
    """An :class:`ExceptionIndex` keyed by one epoch's numbers: ``u * width + v`` for two
    users (both orders) and ``a * segment_width + b`` for two segments (both orders).

    ``involved`` are the users some exception of two users names, ``profile_pairs`` the
    pairs of profiles (``p * len(profiles) + q``) some exception of two segments touches:
    a blocked pair outside both is answered with two set lookups.
    """

    user_ids: Sequence[str]
    names: tuple[str, ...]
    profiles: tuple[tuple[int, ...], ...]
    width: int
    segment_width: int
    users: dict[int, list[WallException]]
    segments: dict[int, list[WallException]]
    involved: frozenset[int]
    profile_pairs: frozenset[int]
    #: The same two sets as flags (1 at a member), for the batch loop: indexing bytes is
    #: cheaper than hashing, and both fit in a processor cache.
    involved_flags: bytes
    profile_pair_flags: bytes

    @classmethod
    def build(cls, index: ExceptionIndex, epoch: Epoch) -> _Resolved:
        width, segment_width = len(epoch.user_ids), len(epoch.segment_names)
        users: dict[int, list[WallException]] = {}
        for (a, b), found in index.by_users.items():
            i, j = epoch.index_of_id(a), epoch.index_of_id(b)
            if i is not None and j is not None:
                users.setdefault(i * width + j, []).extend(found)
                users.setdefault(j * width + i, []).extend(found)
        number = {fold(n): k for k, n in enumerate(epoch.segment_names)}
        segments: dict[int, list[WallException]] = {}
        for (a, b), found in index.by_segments.items():
            i, j = number.get(a), number.get(b)
            if i is not None and j is not None:
                segments.setdefault(i * segment_width + j, []).extend(found)
                segments.setdefault(j * segment_width + i, []).extend(found)
        involved = frozenset(k // width for k in users)
        holding: dict[int, list[int]] = {}
        for p, members in enumerate(epoch.profiles):
            for s in members:
                holding.setdefault(s, []).append(p)
        count = len(epoch.profiles)
        pairs = frozenset(
            p * count + q
            for key in segments
            for p in holding.get(key // segment_width, ())
            for q in holding.get(key % segment_width, ())
        )
        user_flags = bytearray(width)
        for u in involved:
            user_flags[u] = 1
        pair_flags = bytearray(count * count)
        for pair in pairs:
            pair_flags[pair] = 1
        return cls(
            epoch.user_ids,
            epoch.segment_names,
            epoch.profiles,
            width,
            segment_width,
            users,
            segments,
            involved,
            pairs,
            bytes(user_flags),
            bytes(pair_flags),
        )


class Folded:
    """The exceptions folded into one epoch's profile numbering, for the batch path (§11).

    Each user's key is their profile ``k`` (``-1`` when not usable, as ``Epoch.keys``), or
    ``k + P`` when an exception of two users names them (``P`` profiles): a pair of keys is
    ``x * 2P + y``, and what a batch caches per pair (:attr:`fragments`) is either the
    answer of the base pair, or, for a pair the barrier blocks whose users are named by an
    exception of two users or whose profiles an exception of two segments touches,
    ``(ASK, answer, touched, k, m)``: then only an exact pair of users (:attr:`named`, one
    dictionary read) or a touched pair of profiles consults the index. Pairs that no
    exception can open thus cost what they cost without exceptions: one read of the cache.
    A pair with only one side named is read as its base pair (the batch path takes ``P``
    off the named side): no exception of two users names both, so it cannot be opened that
    way, and the cache keeps one entry for it instead of one per named side.
    """

    __slots__ = (
        "around",
        "count",
        "epoch",
        "fragments",
        "keys",
        "named",
        "people",
        "touched",
        "width",
    )

    def __init__(self, epoch: Epoch, resolved: _Resolved) -> None:
        count = len(epoch.profiles)
        base = np.where(epoch.usable_array(), epoch.profile_array(), -1).astype(np.int64)
        named = np.frombuffer(resolved.involved_flags, dtype=np.uint8).astype(np.int64)
        keys = np.where(base >= 0, base + count * named, -1).astype(np.int32)
        self.epoch = epoch
        self.count = count
        self.width = 2 * count
        self.keys: array[int] = array("i")
        self.keys.frombytes(keys.tobytes())
        self.touched = resolved.profile_pair_flags
        #: Exceptions of two users by ``u * people + v`` (both orders).
        self.named = resolved.users
        self.people = resolved.width
        #: Per pair of keys: the cached answer (an adapter's), or the tuple above.
        self.fragments: dict[int, Any] = {}
        #: Per caller's wrapping, per pair of keys: the answer around its two UPNs
        #: (``core.answer_columns``), kept as long as the fragments.
        self.around: dict[Any, dict[int, Any]] = {}

    def split(self, pair: int) -> tuple[int, int, bool, bool]:
        """The base profiles of a pair of keys, whether an exception may open it, and
        whether an exception of two segments touches it."""
        x, y = divmod(pair, self.width)
        count = self.count
        k, m = x % count, y % count
        base = k * count + m
        blocked = self.epoch.table[base] != 1
        touched = blocked and bool(self.touched[base])
        return k, m, blocked and ((x >= count and y >= count) or touched), touched


#: Heads what :attr:`Folded.fragments` holds for a pair an exception may open.
ASK: Any = object()


def _best(
    found: WallException | None,
    candidates: list[WallException] | None,
    now: datetime,
    action: Action | None,
) -> WallException | None:
    if candidates:
        for exc in candidates:
            later = found is None or (exc.end, exc.id) > (found.end, found.id)
            if later and exc.is_active(now) and exc.covers(action):
                found = exc
    return found


@dataclass(slots=True)
class ActiveExceptions:
    """An :class:`ExceptionIndex` at one instant: the openings decisions see."""

    index: ExceptionIndex
    now: datetime
    #: The last epoch asked about and :meth:`opener` bound to it.
    _bound: (
        tuple[Epoch, Callable[[int, int, int, int, Action | None], WallException | None]] | None
    ) = None

    def opening(self, epoch: Epoch, u: int, v: int, action: Action | None) -> WallException | None:
        """The active exception that opens users ``u`` and ``v`` (epoch indices) for
        ``action`` (``None``: for any action), the one ending last; else ``None``."""
        folded = self.index._folded
        if folded is None or folded.epoch is not epoch:
            folded = self.index.folded(epoch)
        count = folded.count
        x, y = folded.keys[u], folded.keys[v]
        if 0 <= x < count and 0 <= y < count:  # neither named by an exception of two users
            if not folded.touched[x * count + y]:
                return None  # and no exception of two segments touches their profiles
            k, m = x, y
        elif x < 0 or y < 0:
            return None
        else:
            k, m = x % count, y % count
            if not folded.touched[k * count + m] and u * folded.people + v not in folded.named:
                return None  # no exception names the two, none touches their profiles
        bound = self._bound
        if bound is None or bound[0] is not epoch:
            bound = self._bound = (epoch, self.opener(epoch))
        return bound[1](u, v, k, m, action)

    def folded(self, epoch: Epoch) -> Folded:
        """The exceptions folded into ``epoch``'s profile numbering (:class:`Folded`)."""
        return self.index.folded(epoch)

    def touched(self, epoch: Epoch) -> tuple[bytes, bytes]:
        """Flags by user index (named by some exception of two users) and by profile pair
        ``p * len(epoch.profiles) + q`` (touched by some exception of two segments): a pair
        flagged by neither is opened by nothing (what the batch path checks first)."""
        resolved = self.index.resolved(epoch)
        return resolved.involved_flags, resolved.profile_pair_flags

    def opener(
        self, epoch: Epoch
    ) -> Callable[[int, int, int, int, Action | None], WallException | None]:
        """:meth:`opening` bound to one epoch, for many questions (the batch path):
        ``opens(u, v, p, q, action)`` with ``p`` and ``q`` the users' profiles."""
        resolved, now = self.index.resolved(epoch), self.now
        users, width, involved = resolved.users, resolved.width, resolved.involved
        segments, segment_width = resolved.segments, resolved.segment_width
        profiles, profile_pairs = resolved.profiles, resolved.profile_pairs
        count = len(profiles)

        def opens(u: int, v: int, p: int, q: int, action: Action | None) -> WallException | None:
            found: WallException | None = None
            if u in involved:
                candidates = users.get(u * width + v)
                if candidates is not None:
                    found = _best(found, candidates, now, action)
            if p * count + q in profile_pairs:
                theirs = profiles[q]
                for a in profiles[p]:
                    base = a * segment_width
                    for b in theirs:
                        candidates = segments.get(base + b)
                        if candidates is not None:
                            found = _best(found, candidates, now, action)
            return found

        return opens

    def widen(
        self, epoch: Epoch, base: Callable[[str, str], bool], action: Action
    ) -> Callable[[str, str], bool]:
        """``base`` (a ``compatible(u, v)`` over user ids, as reconciliation of §8 counts
        it) widened by the pairs opened for ``action``."""

        def compatible(u: str, v: str) -> bool:
            if base(u, v):
                return True
            i, j = epoch.index_of_id(u), epoch.index_of_id(v)
            if i is None or j is None:
                return False
            return self.opening(epoch, i, j, action) is not None

        return compatible

    def relation_for(
        self, epoch: Epoch, base: Callable[[str, str], bool]
    ) -> Callable[[CollabObject], Callable[[str, str], bool]]:
        """Per collaboration object, ``base`` widened (:meth:`widen`) for the object's
        communication (:func:`action_of`)."""
        relations: dict[Action, Callable[[str, str], bool]] = {}

        def relation(obj: CollabObject) -> Callable[[str, str], bool]:
            action = action_of(obj)
            found = relations.get(action)
            if found is None:
                found = relations[action] = self.widen(epoch, base, action)
            return found

        return relation


def action_of(obj: CollabObject) -> Action:
    """The communication of §7 an existing object stands for (what an exception must name
    to keep people together in it): a 1:1 chat ``chat``, a group chat ``group-chat``, a
    meeting ``meeting-invite``, a team ``add-team-member``, a call ``call``."""
    if isinstance(obj, Chat):
        return Action.CHAT if obj.kind is ChatKind.ONE_ON_ONE else Action.GROUP_CHAT
    if isinstance(obj, Meeting):
        return Action.MEETING_INVITE
    if isinstance(obj, Team):
        return Action.ADD_TEAM_MEMBER
    assert isinstance(obj, Call)
    return Action.CALL


__all__ = [
    "ASK",
    "DEFAULT_MAX_WINDOW",
    "FINAL",
    "OPENABLE",
    "ActiveExceptions",
    "ExceptionIndex",
    "Folded",
    "FourEyes",
    "State",
    "WallException",
    "action_of",
    "approve",
    "check_window",
    "expire",
    "iso",
    "new_request",
    "parse_actions",
    "parse_time",
    "reject",
    "revoke",
    "utc",
]
