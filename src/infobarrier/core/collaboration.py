"""The collaboration objects of semantics §7 and §8: teams, chats, meetings and calls.

These are plain values: frozen dataclasses whose helpers return new objects and never
touch a store or ask the barrier. The collaboration service checks §7 (barrier verdicts
and licensing) *before* it calls a helper; reconciliation (§8, :mod:`infobarrier.core.reconcile`)
plans and applies removals on them.

Join order. Every object keeps a per-object join counter: each participant is a
:class:`Member` with a ``seq`` (larger = joined later) and the object holds ``next_seq``,
the seq the next newcomer gets. Users who join together (the participants an object is
created with) share a seq, so §8's last tie-break (the greater UPN) matters for them.

Storage. ``to_json()`` gives a JSON-ready ``dict`` (lists, strings, ints, booleans, ``None``)
tagged with ``object_kind``; ``from_json(to_json(x)) == x`` and
``to_json(from_json(d)) == d`` for every well-formed ``d``. Every constructor, and so
``from_json``, checks the object's invariants and raises :class:`InvalidInput` naming the
problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self, TypeAlias, TypeVar

from infobarrier.core.errors import InvalidInput

#: The four kinds of collaboration object (the ``object_kind`` tag of their JSON form).
ObjectKind = Literal["team", "chat", "meeting", "call"]

_E = TypeVar("_E", bound=StrEnum)


# -- JSON helpers --------------------------------------------------------------------------


def _check_keys(data: Mapping[str, Any], what: str, keys: Sequence[str]) -> None:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{what}: expected a JSON object, got {type(data).__name__}")
    missing = [k for k in keys if k not in data]
    unknown = sorted(str(k) for k in data if k not in keys)
    if missing:
        raise InvalidInput(f"{what}: missing field(s) {', '.join(missing)}")
    if unknown:
        raise InvalidInput(f"{what}: unknown field(s) {', '.join(unknown)}")


def _check_tag(data: Mapping[str, Any], kind: ObjectKind) -> None:
    if data["object_kind"] != kind:
        raise InvalidInput(f"{kind}: object_kind is {data['object_kind']!r}, expected {kind!r}")


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what}: expected a string, got {value!r}")
    return value


def _opt_str(value: Any, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what}: expected an integer, got {value!r}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{what}: expected true or false, got {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what}: expected a list, got {value!r}")
    return value


def _strs(value: Any, what: str) -> tuple[str, ...]:
    return tuple(_str(v, f"{what}[{i}]") for i, v in enumerate(_list(value, what)))


def _members(value: Any, what: str) -> tuple[Member, ...]:
    return tuple(Member.from_json(v) for v in _list(value, what))


def _enum(cls: type[_E], value: Any, what: str) -> _E:
    try:
        return cls(_str(value, what))
    except ValueError:
        valid = ", ".join(m.value for m in cls)
        raise InvalidInput(f"{what}: {value!r} is not one of {valid}") from None


# -- invariants ----------------------------------------------------------------------------


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string")


def _check_unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for uid in ids:
        if uid in seen:
            raise InvalidInput(f"{what}: user {uid} appears twice")
        seen.add(uid)


def _check_seqs(members: Sequence[Member], next_seq: int, what: str) -> None:
    if isinstance(next_seq, bool) or not isinstance(next_seq, int) or next_seq < 0:
        raise InvalidInput(f"{what}: next_seq must be an integer >= 0, got {next_seq!r}")
    _check_unique((m.user_id for m in members), what)
    for m in members:
        if m.seq >= next_seq:
            raise InvalidInput(
                f"{what}: user {m.user_id} has seq {m.seq}, not below next_seq {next_seq}"
            )


def _ids(members: Sequence[Member]) -> tuple[str, ...]:
    return tuple(m.user_id for m in members)


# -- objects -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A participant of a collaboration object and when they joined it (§8's tie-break).

    ``seq`` is the object's join counter at the time the user joined: larger means joined
    later; users added together share a seq.
    """

    user_id: str
    seq: int

    def __post_init__(self) -> None:
        _check_id(self.user_id, "member user_id")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise InvalidInput(f"member {self.user_id}: seq must be an integer >= 0")

    def to_json(self) -> dict[str, Any]:
        """``{"user_id": str, "seq": int}``."""
        return {"user_id": self.user_id, "seq": self.seq}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of :meth:`to_json`; :class:`InvalidInput` for malformed data."""
        _check_keys(data, "member", ("user_id", "seq"))
        return cls(_str(data["user_id"], "member user_id"), _int(data["seq"], "member seq"))


class TeamMode(StrEnum):
    """How a team admits members (§7 ``add-team-member``; §8 for reconciliation)."""

    OPEN = "Open"
    IMPLICIT = "Implicit"
    OWNER_MODERATED = "OwnerModerated"


@dataclass(frozen=True, slots=True)
class Team:
    """A team (§7, §8). ``owners`` are user ids, each also in ``members``."""

    object_kind: ClassVar[ObjectKind] = "team"

    id: str
    name: str
    mode: TeamMode = TeamMode.IMPLICIT
    owners: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()
    next_seq: int = 0

    def __post_init__(self) -> None:
        what = f"team {self.id}"
        _check_id(self.id, "team id")
        if not isinstance(self.name, str):
            raise InvalidInput(f"{what}: name must be a string")
        if not isinstance(self.mode, TeamMode):
            raise InvalidInput(f"{what}: mode must be a TeamMode")
        _check_seqs(self.members, self.next_seq, what)
        _check_unique(self.owners, f"{what} owners")
        member_ids = set(_ids(self.members))
        for owner in self.owners:
            if owner not in member_ids:
                raise InvalidInput(f"{what}: owner {owner} is not a member")

    @classmethod
    def create(
        cls, id: str, name: str, owners: Sequence[str], mode: TeamMode = TeamMode.IMPLICIT
    ) -> Self:
        """A new team whose first members are its owners (joined together: seq 0)."""
        return cls(id, name, mode, tuple(owners), tuple(Member(o, 0) for o in owners), 1)

    def participant_ids(self) -> tuple[str, ...]:
        """The members' user ids, in member order."""
        return _ids(self.members)

    def is_owner(self, user_id: str) -> bool:
        """True when the user owns the team."""
        return user_id in self.owners

    def with_member(self, user_id: str) -> Self:
        """The team with a newcomer (joined last); :class:`InvalidInput` if already a member."""
        if user_id in self.participant_ids():
            raise InvalidInput(f"team {self.id}: user {user_id} is already a member")
        newcomer = Member(user_id, self.next_seq)
        return replace(self, members=(*self.members, newcomer), next_seq=self.next_seq + 1)

    def with_owner(self, user_id: str) -> Self:
        """The team with a member promoted to owner."""
        if user_id not in self.participant_ids():
            raise InvalidInput(f"team {self.id}: user {user_id} is not a member")
        if user_id in self.owners:
            raise InvalidInput(f"team {self.id}: user {user_id} is already an owner")
        return replace(self, owners=(*self.owners, user_id))

    def without_member(self, user_id: str) -> Self:
        """The team without a member (who loses the team, and ownership if any: §8)."""
        if user_id not in self.participant_ids():
            raise InvalidInput(f"team {self.id}: user {user_id} is not a member")
        return replace(
            self,
            owners=tuple(o for o in self.owners if o != user_id),
            members=tuple(m for m in self.members if m.user_id != user_id),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (tagged ``"object_kind": "team"``)."""
        return {
            "object_kind": self.object_kind,
            "id": self.id,
            "name": self.name,
            "mode": self.mode.value,
            "owners": list(self.owners),
            "members": [m.to_json() for m in self.members],
            "next_seq": self.next_seq,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of :meth:`to_json`; :class:`InvalidInput` for malformed data."""
        keys = ("object_kind", "id", "name", "mode", "owners", "members", "next_seq")
        _check_keys(data, "team", keys)
        _check_tag(data, "team")
        return cls(
            id=_str(data["id"], "team id"),
            name=_str(data["name"], "team name"),
            mode=_enum(TeamMode, data["mode"], "team mode"),
            owners=_strs(data["owners"], "team owners"),
            members=_members(data["members"], "team members"),
            next_seq=_int(data["next_seq"], "team next_seq"),
        )


class ChatKind(StrEnum):
    """A 1:1 chat (exactly two participants) or a group chat."""

    ONE_ON_ONE = "one_on_one"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat (§7, §8). ``removed``: users removed by reconciliation, who keep read-only history.

    A 1:1 chat has exactly two participants and never removes anyone; §8 makes it
    read-only instead. A read-only chat admits nobody and stays read-only.
    """

    object_kind: ClassVar[ObjectKind] = "chat"

    id: str
    kind: ChatKind
    participants: tuple[Member, ...] = ()
    removed: tuple[str, ...] = ()
    read_only: bool = False
    next_seq: int = 0

    def __post_init__(self) -> None:
        what = f"chat {self.id}"
        _check_id(self.id, "chat id")
        if not isinstance(self.kind, ChatKind):
            raise InvalidInput(f"{what}: kind must be a ChatKind")
        if not isinstance(self.read_only, bool):
            raise InvalidInput(f"{what}: read_only must be true or false")
        _check_seqs(self.participants, self.next_seq, what)
        _check_unique(self.removed, f"{what} removed")
        both = set(self.removed) & set(_ids(self.participants))
        if both:
            raise InvalidInput(f"{what}: user {min(both)} is both a participant and removed")
        if self.kind is ChatKind.ONE_ON_ONE and (len(self.participants) != 2 or self.removed):
            raise InvalidInput(f"{what}: a 1:1 chat has exactly two participants")

    @classmethod
    def create(cls, id: str, kind: ChatKind, participants: Sequence[str]) -> Self:
        """A new chat; its first participants joined together (seq 0)."""
        return cls(id, kind, tuple(Member(p, 0) for p in participants), next_seq=1)

    def participant_ids(self) -> tuple[str, ...]:
        """The current participants' user ids (not the removed), in join order."""
        return _ids(self.participants)

    def with_participant(self, user_id: str) -> Self:
        """The group chat with a newcomer (joined last).

        A user removed earlier may be added again: they leave ``removed``. Adding to a
        1:1 or read-only chat, or adding a current participant, is :class:`InvalidInput`.
        """
        if self.kind is ChatKind.ONE_ON_ONE:
            raise InvalidInput(f"chat {self.id}: a 1:1 chat cannot take a third participant")
        if self.read_only:
            raise InvalidInput(f"chat {self.id} is read-only")
        if user_id in self.participant_ids():
            raise InvalidInput(f"chat {self.id}: user {user_id} is already a participant")
        return replace(
            self,
            participants=(*self.participants, Member(user_id, self.next_seq)),
            removed=tuple(r for r in self.removed if r != user_id),
            next_seq=self.next_seq + 1,
        )

    def without_participant(self, user_id: str) -> Self:
        """The group chat with a participant moved to ``removed`` (read-only history, §8)."""
        if self.kind is ChatKind.ONE_ON_ONE:
            raise InvalidInput(f"chat {self.id}: nobody is removed from a 1:1 chat")
        if user_id not in self.participant_ids():
            raise InvalidInput(f"chat {self.id}: user {user_id} is not a participant")
        return replace(
            self,
            participants=tuple(p for p in self.participants if p.user_id != user_id),
            removed=(*self.removed, user_id),
        )

    def made_read_only(self) -> Self:
        """The chat made read-only (§8); :class:`InvalidInput` if it already is."""
        if self.read_only:
            raise InvalidInput(f"chat {self.id} is already read-only")
        return replace(self, read_only=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (tagged ``"object_kind": "chat"``)."""
        return {
            "object_kind": self.object_kind,
            "id": self.id,
            "kind": self.kind.value,
            "participants": [p.to_json() for p in self.participants],
            "removed": list(self.removed),
            "read_only": self.read_only,
            "next_seq": self.next_seq,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of :meth:`to_json`; :class:`InvalidInput` for malformed data."""
        keys = ("object_kind", "id", "kind", "participants", "removed", "read_only", "next_seq")
        _check_keys(data, "chat", keys)
        _check_tag(data, "chat")
        return cls(
            id=_str(data["id"], "chat id"),
            kind=_enum(ChatKind, data["kind"], "chat kind"),
            participants=_members(data["participants"], "chat participants"),
            removed=_strs(data["removed"], "chat removed"),
            read_only=_bool(data["read_only"], "chat read_only"),
            next_seq=_int(data["next_seq"], "chat next_seq"),
        )


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting (§7, §8): the organizer is a participant but not one of the ``invitees``.

    ``joined`` lists who has joined (organizer or invitees), in joining order.
    """

    object_kind: ClassVar[ObjectKind] = "meeting"

    id: str
    subject: str
    organizer: str
    invitees: tuple[Member, ...] = ()
    joined: tuple[str, ...] = ()
    next_seq: int = 0

    def __post_init__(self) -> None:
        what = f"meeting {self.id}"
        _check_id(self.id, "meeting id")
        if not isinstance(self.subject, str):
            raise InvalidInput(f"{what}: subject must be a string")
        _check_id(self.organizer, f"{what}: organizer")
        _check_seqs(self.invitees, self.next_seq, what)
        if self.organizer in _ids(self.invitees):
            raise InvalidInput(f"{what}: the organizer {self.organizer} is not an invitee")
        _check_unique(self.joined, f"{what} joined")
        allowed = set(self.participant_ids())
        for uid in self.joined:
            if uid not in allowed:
                raise InvalidInput(f"{what}: user {uid} joined but is not a participant")

    @classmethod
    def create(cls, id: str, subject: str, organizer: str, invitees: Sequence[str] = ()) -> Self:
        """A new meeting; its first invitees were invited together (seq 0)."""
        return cls(id, subject, organizer, tuple(Member(i, 0) for i in invitees), next_seq=1)

    def participant_ids(self) -> tuple[str, ...]:
        """The organizer, then the invitees in invitation order."""
        return (self.organizer, *_ids(self.invitees))

    def with_invitee(self, user_id: str) -> Self:
        """The meeting with one more invitee (invited last)."""
        if user_id in self.participant_ids():
            raise InvalidInput(f"meeting {self.id}: user {user_id} is already a participant")
        return replace(
            self,
            invitees=(*self.invitees, Member(user_id, self.next_seq)),
            next_seq=self.next_seq + 1,
        )

    def with_joined(self, user_id: str) -> Self:
        """The meeting after the organizer or an invitee joins it."""
        if user_id not in self.participant_ids():
            raise InvalidInput(f"meeting {self.id}: user {user_id} is not invited")
        if user_id in self.joined:
            raise InvalidInput(f"meeting {self.id}: user {user_id} has already joined")
        return replace(self, joined=(*self.joined, user_id))

    def without_invitee(self, user_id: str) -> Self:
        """The meeting without an invitee, who also leaves ``joined`` (§8)."""
        if user_id not in _ids(self.invitees):
            raise InvalidInput(f"meeting {self.id}: user {user_id} is not an invitee")
        return replace(
            self,
            invitees=tuple(i for i in self.invitees if i.user_id != user_id),
            joined=tuple(j for j in self.joined if j != user_id),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (tagged ``"object_kind": "meeting"``)."""
        return {
            "object_kind": self.object_kind,
            "id": self.id,
            "subject": self.subject,
            "organizer": self.organizer,
            "invitees": [i.to_json() for i in self.invitees],
            "joined": list(self.joined),
            "next_seq": self.next_seq,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of :meth:`to_json`; :class:`InvalidInput` for malformed data."""
        keys = ("object_kind", "id", "subject", "organizer", "invitees", "joined", "next_seq")
        _check_keys(data, "meeting", keys)
        _check_tag(data, "meeting")
        return cls(
            id=_str(data["id"], "meeting id"),
            subject=_str(data["subject"], "meeting subject"),
            organizer=_str(data["organizer"], "meeting organizer"),
            invitees=_members(data["invitees"], "meeting invitees"),
            joined=_strs(data["joined"], "meeting joined"),
            next_seq=_int(data["next_seq"], "meeting next_seq"),
        )


class CallKind(StrEnum):
    """A call (1:1 or group) or a Dynamics 365 Remote Assist call (§7)."""

    CALL = "call"
    REMOTE_ASSIST = "remote_assist"


@dataclass(frozen=True, slots=True)
class Call:
    """A call (§7, §8), possibly held in a meeting (``meeting_id``).

    ``sharing`` is the participant sharing their screen, if any; an ended call
    (``live`` false) shares nothing and admits nobody.
    """

    object_kind: ClassVar[ObjectKind] = "call"

    id: str
    kind: CallKind = CallKind.CALL
    participants: tuple[Member, ...] = ()
    live: bool = True
    sharing: str | None = None
    meeting_id: str | None = None
    next_seq: int = 0

    def __post_init__(self) -> None:
        what = f"call {self.id}"
        _check_id(self.id, "call id")
        if not isinstance(self.kind, CallKind):
            raise InvalidInput(f"{what}: kind must be a CallKind")
        if not isinstance(self.live, bool):
            raise InvalidInput(f"{what}: live must be true or false")
        _check_seqs(self.participants, self.next_seq, what)
        if self.sharing is not None:
            if not self.live:
                raise InvalidInput(f"{what}: an ended call shares nothing")
            if self.sharing not in self.participant_ids():
                raise InvalidInput(f"{what}: {self.sharing} shares but is not a participant")
        if self.meeting_id is not None:
            _check_id(self.meeting_id, f"{what}: meeting_id")

    @classmethod
    def create(
        cls,
        id: str,
        participants: Sequence[str],
        kind: CallKind = CallKind.CALL,
        meeting_id: str | None = None,
    ) -> Self:
        """A new live call; its first participants joined together (seq 0)."""
        members = tuple(Member(p, 0) for p in participants)
        return cls(id, kind, members, meeting_id=meeting_id, next_seq=1)

    def participant_ids(self) -> tuple[str, ...]:
        """The participants' user ids, in join order."""
        return _ids(self.participants)

    def _live(self) -> None:
        if not self.live:
            raise InvalidInput(f"call {self.id} has ended")

    def with_participant(self, user_id: str) -> Self:
        """The live call with a newcomer (joined last)."""
        self._live()
        if user_id in self.participant_ids():
            raise InvalidInput(f"call {self.id}: user {user_id} is already a participant")
        return replace(
            self,
            participants=(*self.participants, Member(user_id, self.next_seq)),
            next_seq=self.next_seq + 1,
        )

    def sharing_by(self, user_id: str | None) -> Self:
        """The live call with ``user_id`` sharing their screen (``None``: nobody shares)."""
        self._live()
        if user_id is not None and user_id not in self.participant_ids():
            raise InvalidInput(f"call {self.id}: user {user_id} is not a participant")
        return replace(self, sharing=user_id)

    def ended(self) -> Self:
        """The call ended (not live, nothing shared); :class:`InvalidInput` if already ended."""
        self._live()
        return replace(self, live=False, sharing=None)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (tagged ``"object_kind": "call"``)."""
        return {
            "object_kind": self.object_kind,
            "id": self.id,
            "kind": self.kind.value,
            "participants": [p.to_json() for p in self.participants],
            "live": self.live,
            "sharing": self.sharing,
            "meeting_id": self.meeting_id,
            "next_seq": self.next_seq,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of :meth:`to_json`; :class:`InvalidInput` for malformed data."""
        keys = (
            "object_kind",
            "id",
            "kind",
            "participants",
            "live",
            "sharing",
            "meeting_id",
            "next_seq",
        )
        _check_keys(data, "call", keys)
        _check_tag(data, "call")
        return cls(
            id=_str(data["id"], "call id"),
            kind=_enum(CallKind, data["kind"], "call kind"),
            participants=_members(data["participants"], "call participants"),
            live=_bool(data["live"], "call live"),
            sharing=_opt_str(data["sharing"], "call sharing"),
            meeting_id=_opt_str(data["meeting_id"], "call meeting_id"),
            next_seq=_int(data["next_seq"], "call next_seq"),
        )


#: Any collaboration object.
CollabObject: TypeAlias = Team | Chat | Meeting | Call

_CLASSES: dict[str, type[Team] | type[Chat] | type[Meeting] | type[Call]] = {
    "team": Team,
    "chat": Chat,
    "meeting": Meeting,
    "call": Call,
}


def collab_from_json(data: Mapping[str, Any]) -> CollabObject:
    """Any collaboration object from its JSON form, by its ``object_kind`` tag."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("object_kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidInput(f"object_kind {kind!r} is not one of team, chat, meeting, call")
    return cls.from_json(data)


__all__ = [
    "Call",
    "CallKind",
    "Chat",
    "ChatKind",
    "CollabObject",
    "Meeting",
    "Member",
    "ObjectKind",
    "Team",
    "TeamMode",
    "collab_from_json",
]
