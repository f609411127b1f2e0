"""Matrix rooms as infobarrier sees them, and what reconciliation does to them (semantics §8).

A room is a group chat, a space (a team) or a meeting. Reconciliation maps each room onto
the collaboration object of its kind and lets :func:`infobarrier.core.reconcile.plan` pick
who is removed, so a Matrix room follows exactly the rules of infobarrier's own
conversations. No Synapse import: the module reads the rooms and carries the removals out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infobarrier.core.collaboration import Chat, ChatKind, CollabObject, Meeting, Member, Team
from infobarrier.core.contract import Action
from infobarrier.core.reconcile import Compatible, UpnOf, plan

SPACE_TYPE = "m.space"
#: State events that set up a group call (MSC3401): a room holding one is a meeting.
GROUP_CALL_TYPES = frozenset({"m.call", "org.matrix.msc3401.call"})
#: A user's membership of a group call (MSC3401 / MatrixRTC): a state event per user/device.
CALL_MEMBER_TYPES = frozenset({"m.call.member", "org.matrix.msc3401.call.member"})
#: 1:1 VoIP events whose stream metadata may announce a screen share.
STREAM_EVENT_TYPES = frozenset(
    {"m.call.invite", "m.call.negotiate", "m.call.sdp_stream_metadata_changed"}
)
STREAM_METADATA_KEYS = ("sdp_stream_metadata", "org.matrix.msc3077.sdp_stream_metadata")
SCREENSHARE = "m.screenshare"
#: Events that end something: never refused, even in a room the barrier now separates.
ENDING_TYPES = frozenset({"m.call.hangup", "m.call.reject", "m.room.redaction"})


class RoomKind(StrEnum):
    """What a room is to the barrier."""

    CHAT = "chat"
    SPACE = "space"
    MEETING = "meeting"


def room_kind(create_type: str | None, state_types: Iterable[str]) -> RoomKind:
    """A space by its creation type; a meeting once it holds group-call state; else a chat."""
    if create_type == SPACE_TYPE:
        return RoomKind.SPACE
    if any(t in GROUP_CALL_TYPES or t in CALL_MEMBER_TYPES for t in state_types):
        return RoomKind.MEETING
    return RoomKind.CHAT


def shares_screen(content: Mapping[str, Any]) -> bool:
    """Does a call event's stream metadata (spec key or MSC3077's) announce a screen share?"""
    for key in STREAM_METADATA_KEYS:
        metadata = content.get(key)
        if isinstance(metadata, Mapping):
            for stream in metadata.values():
                if isinstance(stream, Mapping) and stream.get("purpose") == SCREENSHARE:
                    return True
    return False


def joins_group_call(content: Mapping[str, Any]) -> bool:
    """Is a call-member state event a join (an empty one, or no devices, is a leave)?"""
    calls = content.get("m.calls")
    if isinstance(calls, list):
        return any(isinstance(c, Mapping) and c.get("m.devices") for c in calls)
    return bool(content)


@dataclass(frozen=True, slots=True)
class RoomMember:
    """A user joined to or invited into a room; ``seq`` orders memberships (later = larger)."""

    user_id: str
    membership: str
    seq: int


@dataclass(frozen=True, slots=True)
class Room:
    """A room's kind, creator and current members (joined and invited)."""

    room_id: str
    kind: RoomKind
    creator: str | None
    members: tuple[RoomMember, ...]

    def member_ids(self) -> list[str]:
        """Joined and invited users."""
        return [m.user_id for m in self.members]


@dataclass(frozen=True, slots=True)
class Removal:
    """A member reconciliation removes from a room, and why (for the audit log)."""

    room_id: str
    user_id: str
    kind: str
    rule: str
    reason: str
    pairs: tuple[tuple[str, str], ...]

    def detail(self, upn_of: UpnOf) -> dict[str, Any]:
        """The audit entry's detail."""
        return {
            "room_id": self.room_id,
            "user_id": self.user_id,
            "upn": upn_of(self.user_id),
            "kind": self.kind,
            "rule": self.rule,
            "reason": self.reason,
            "pairs": [[upn_of(a), upn_of(b)] for a, b in self.pairs],
        }


def _members(members: Sequence[RoomMember]) -> tuple[tuple[Member, ...], int]:
    """Members with non-negative seqs (Synapse's backfilled orderings are negative)."""
    built = tuple(Member(m.user_id, max(m.seq, 0)) for m in members)
    return built, max((m.seq for m in built), default=0) + 1


def as_object(room: Room) -> CollabObject | None:
    """The collaboration object whose §8 rules a room follows (``None``: nobody to separate).

    A chat, also one of two people, is a group chat: Matrix has no read-only room a server
    can impose, so where infobarrier makes a 1:1 chat read-only the later joiner leaves it
    (both keep the history they have). A space is an ``Implicit`` team owned by its
    creator; a meeting is organized by its creator (when the creator is still there).
    """
    if len(room.members) < 2:
        return None
    members, next_seq = _members(room.members)
    ids = [m.user_id for m in members]
    if room.kind is RoomKind.SPACE:
        owners = (room.creator,) if room.creator in ids else ()
        return Team(room.room_id, "", owners=owners, members=members, next_seq=next_seq)
    if room.kind is RoomKind.MEETING and room.creator in ids:
        invitees = tuple(m for m in members if m.user_id != room.creator)
        return Meeting(room.room_id, "", room.creator, invitees, next_seq=next_seq)
    return Chat(room.room_id, ChatKind.GROUP, members, next_seq=next_seq)


def kind_action(kind: RoomKind, members: int) -> Action:
    """The communication of §7 a room of ``kind`` with ``members`` people (joined and
    invited) stands for: what a wall-crossing exception must name to keep two people in it
    (§11). A chat of two is the direct chat the callbacks decide as ``chat``."""
    if kind is RoomKind.SPACE:
        return Action.ADD_TEAM_MEMBER
    if kind is RoomKind.MEETING:
        return Action.MEETING_INVITE
    return Action.CHAT if members <= 2 else Action.GROUP_CHAT


def room_action(room: Room) -> Action:
    """:func:`kind_action` of a room."""
    return kind_action(room.kind, len(room.members))


def plan_rooms(
    rooms: Iterable[Room],
    compatible: Compatible,
    upn_of: UpnOf,
    per_action: Callable[[Action], Compatible] | None = None,
) -> list[Removal]:
    """Who leaves which room so every room is compatible again, by §8's rules, in order.

    ``per_action``: the relation for a room of an action (:func:`room_action`), when
    wall-crossing exceptions widen ``compatible`` for some actions (§11)."""
    removals = []
    for room in rooms:
        obj = as_object(room)
        if obj is None:
            continue
        relation = compatible if per_action is None else per_action(room_action(room))
        for action in plan(obj, relation, upn_of):
            if action.user_id is None:  # pragma: no cover - group objects always name one
                continue
            removals.append(
                Removal(
                    room.room_id,
                    action.user_id,
                    action.kind.value,
                    action.rule.value,
                    action.describe(upn_of),
                    action.pairs,
                )
            )
    return removals
