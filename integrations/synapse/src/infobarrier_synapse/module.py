"""The Synapse module: spam-checker callbacks that enforce the barrier, and reconciliation.

Synapse loads :class:`InformationBarrierModule` from ``modules:`` in its configuration. The
callbacks decide from memory (see :mod:`infobarrier_synapse.deciders`); a looping call
follows the tenant's changes and, when the barrier or the directory moved, makes the
members that reconciliation removes leave their rooms, auditing each removal.

Every refusal is ``M_FORBIDDEN`` with an ``infobarrier`` object in the response body
(``code``, ``reason``, ``action``, ``policy``, ``segment``, ``pair``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM, EventBase, ModuleApi, UserProfile
from synapse.module_api.errors import ConfigError

from infobarrier.core.contract import Action
from infobarrier_synapse import config as module_config
from infobarrier_synapse.deciders import Decider, LocalDecider, RemoteDecider
from infobarrier_synapse.gate import ALLOWED, Decision
from infobarrier_synapse.rooms import (
    CALL_MEMBER_TYPES,
    ENDING_TYPES,
    GROUP_CALL_TYPES,
    STREAM_EVENT_TYPES,
    Room,
    RoomKind,
    RoomMember,
    joins_group_call,
    kind_action,
    plan_rooms,
    room_action,
    room_kind,
    shares_screen,
)

log = logging.getLogger(__name__)

MEMBER = "m.room.member"
CREATE = "m.room.create"
SPACE_CHILD = "m.space.child"
CALL_INVITE = "m.call.invite"
#: How often memberships are looked at for admins' crossings.
ADMIN_WATCH_SECONDS = 1.0

#: What a callback reads of a room's state.
_STATE = [
    (MEMBER, None),
    (CREATE, ""),
    *((t, None) for t in sorted(GROUP_CALL_TYPES | CALL_MEMBER_TYPES)),
]

_TYPES = frozenset(t for t, _key in _STATE)

Refusal = tuple[Codes, dict[str, Any]]
Answer = Literal["NOT_SPAM"] | Refusal


def refusal(decision: Decision) -> Refusal:
    """``M_FORBIDDEN`` with infobarrier's code and reason in the body."""
    return Codes.FORBIDDEN, decision.body()


class InformationBarrierModule:
    """Enforces one infobarrier tenant's barrier on this homeserver."""

    def __init__(self, config: module_config.ModuleConfig, api: ModuleApi) -> None:
        self.config = config
        self.api = api
        self.server_name = api.server_name
        self.decider: Decider
        if config.database is not None:
            local = LocalDecider(config, self.server_name, api.defer_to_thread)
            local.load_now()  # decisions are ready when the homeserver starts answering
            self.decider = local
        else:
            self.decider = RemoteDecider(config, self.server_name, api.defer_to_thread)
        self._reconciling = False
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.check_event_for_spam,
            user_may_join_room=self.user_may_join_room,
            user_may_invite=self.user_may_invite,
            federated_user_may_invite=self.federated_user_may_invite,
            user_may_create_room=self.user_may_create_room,
            check_username_for_spam=self.check_username_for_spam,
        )
        # Every worker follows the barrier (its callbacks decide from its own epoch); only the
        # one that runs background tasks reconciles rooms.
        api.looping_background_call(
            self.poll,
            config.poll_seconds * 1000,
            desc="infobarrier_poll",
            run_on_all_instances=True,
        )
        # Memberships that admins got past the callbacks, read back from Synapse's tables.
        # (Not Synapse's ``on_new_event``: it loads the room's whole state for every event
        # sent, messages included, before the sender gets an answer.)
        self._since: int | None = None
        api.looping_background_call(
            self.watch_admins, ADMIN_WATCH_SECONDS * 1000, desc="infobarrier_admin_watch"
        )
        # The first load (and a first reconciliation) as soon as the reactor runs.
        api.delayed_background_call(0, self.poll, desc="infobarrier_first_poll")

    @staticmethod
    def parse_config(raw: Mapping[str, Any]) -> module_config.ModuleConfig:
        """Synapse calls this at start; a bad configuration stops the homeserver."""
        try:
            return module_config.parse(raw)
        except module_config.ConfigError as exc:
            raise ConfigError(str(exc)) from None

    # -- rooms --------------------------------------------------------------------------
    async def _room(self, room_id: str) -> tuple[RoomKind, list[str], list[str], str | None]:
        """(kind, joined, joined and invited, creator) of a room, from its current state."""
        state = await self._state(room_id)
        joined: list[str] = []
        present: list[str] = []
        types: list[str] = []
        create_type: str | None = None
        creator: str | None = None
        for (event_type, state_key), event in state.items():
            if event_type == MEMBER:
                membership = event.content.get("membership")
                if membership == "join":
                    joined.append(state_key)
                    present.append(state_key)
                elif membership == "invite":
                    present.append(state_key)
            elif event_type == CREATE:
                create_type = event.content.get("type")
                creator = event.sender
            else:
                types.append(event_type)
        return room_kind(create_type, types), joined, present, creator

    async def _state(self, room_id: str) -> dict[tuple[str, str], EventBase]:
        """The room's member, create and group-call state events.

        ``ModuleApi.get_room_state`` with a filter by type queries the database every time
        (Synapse caches only unfiltered current state), several milliseconds per message
        on a busy machine. So: the cached map of current state ids, the wanted keys picked
        out here, their events from Synapse's event cache.
        """
        controllers = getattr(self.api, "_storage_controllers", None)
        store = getattr(self.api, "_store", None)
        if controllers is None or store is None:  # pragma: no cover - other Synapse layouts
            return dict(await self.api.get_room_state(room_id, _STATE))
        ids = await controllers.state.get_current_state_ids(room_id)
        wanted = {key: event_id for key, event_id in ids.items() if key[0] in _TYPES}
        events = await store.get_events(list(wanted.values()))
        return {key: events[event_id] for key, event_id in wanted.items() if event_id in events}

    @staticmethod
    def _group_action(kind: RoomKind) -> Action:
        if kind is RoomKind.SPACE:
            return Action.ADD_TEAM_MEMBER
        if kind is RoomKind.MEETING:
            return Action.MEETING_INVITE
        return Action.GROUP_CHAT

    # -- spam-checker callbacks ---------------------------------------------------------
    async def check_username_for_spam(self, user_profile: UserProfile, requester_id: str) -> bool:
        """Directory search: hide everyone the searcher may not search for (§7 ``search``)."""
        return await self.decider.hidden(requester_id, user_profile["user_id"])

    async def user_may_create_room(self, user_id: str, room_config: Mapping[str, Any]) -> Answer:
        """A room created with an invite list: refused when the barrier forbids it."""
        invites = [u for u in room_config.get("invite", []) or [] if isinstance(u, str)]
        invites = [u for u in dict.fromkeys(invites) if u != user_id]
        if not invites:
            return NOT_SPAM
        creation = room_config.get("creation_content") or {}
        if isinstance(creation, Mapping) and creation.get("type") == "m.space":
            action = Action.GROUP_CHAT  # a team's first members reach each other (§7)
        else:
            action = Action.CHAT if len(invites) == 1 else Action.GROUP_CHAT
        decision = await self.decider.check(action, user_id, invites)
        return NOT_SPAM if decision.allowed else refusal(decision)

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Answer:
        """The invitee with every member (joined or invited): the group rule of §7."""
        kind, _joined, present, _creator = await self._room(room_id)
        members = [m for m in present if m != invitee]
        if kind is RoomKind.CHAT and members == [inviter]:
            decision = await self.decider.check(Action.CHAT, inviter, [invitee])
        else:
            decision = await self.decider.newcomer(self._group_action(kind), invitee, members)
        return NOT_SPAM if decision.allowed else refusal(decision)

    async def federated_user_may_invite(self, event: EventBase) -> Answer:
        """An invite from another homeserver: its sender is an unknown user (``unknown_users``)."""
        invitee = event.state_key or ""
        decision = await self.decider.check(Action.CHAT, event.sender, [invitee])
        return NOT_SPAM if decision.allowed else refusal(decision)

    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> Answer:
        """The newcomer with every member (also when invited: the barrier may have moved)."""
        kind, _joined, present, _creator = await self._room(room_id)
        members = [m for m in present if m != user_id]
        if not members:
            return NOT_SPAM
        if kind is RoomKind.CHAT and len(members) == 1:  # joining a direct chat
            decision = await self.decider.check(Action.CHAT, user_id, members)
        else:
            decision = await self.decider.newcomer(self._group_action(kind), user_id, members)
        return NOT_SPAM if decision.allowed else refusal(decision)

    async def check_event_for_spam(self, event: EventBase) -> Answer:
        """Messages, calls, screen shares, group calls and space children (§7)."""
        event_type = event.type
        if event_type == MEMBER or event_type in ENDING_TYPES:
            return NOT_SPAM
        content = event.content
        is_state = event.is_state()
        if is_state and event_type in CALL_MEMBER_TYPES and not joins_group_call(content):
            return NOT_SPAM  # leaving a group call
        if is_state and event_type not in CALL_MEMBER_TYPES | GROUP_CALL_TYPES | {SPACE_CHILD}:
            return NOT_SPAM  # names, topics, power levels...: not a communication
        sender = event.sender
        kind, joined, present, _creator = await self._room(event.room_id)
        decision = await self.decider.separated(joined, kind_action(kind, len(present)))
        if decision.allowed:
            decision = await self._event_decision(event, sender, joined, present)
        return NOT_SPAM if decision.allowed else refusal(decision)

    async def _event_decision(
        self, event: EventBase, sender: str, joined: Sequence[str], present: Sequence[str]
    ) -> Decision:
        event_type, content = event.type, event.content
        others = [m for m in joined if m != sender]
        decision = ALLOWED
        if event_type == CALL_INVITE or event_type in CALL_MEMBER_TYPES:
            decision = await self.decider.check(Action.CALL, sender, others)
        elif event_type in GROUP_CALL_TYPES:
            decision = await self.decider.check(Action.MEETING_INVITE, sender, others)
        elif event_type == SPACE_CHILD:
            decision = await self._space_child(content, event.state_key or "", present)
        if decision.allowed and event_type in STREAM_EVENT_TYPES and shares_screen(content):
            decision = await self.decider.check(Action.SHARE_SCREEN, sender, others)
        return decision

    async def _space_child(
        self, content: Mapping[str, Any], child: str, space_members: Sequence[str]
    ) -> Decision:
        """Adding a room to a space: each of the room's members is a newcomer to the team."""
        if not content:
            return ALLOWED  # removing the child
        _kind, _joined, child_present, _creator = await self._room(child)
        for member in child_present:
            if member in space_members:
                continue
            decision = await self.decider.newcomer(Action.ADD_TEAM_MEMBER, member, space_members)
            if not decision.allowed:
                return decision
        return ALLOWED

    # -- admins (who bypass the invite, join and create-room callbacks) -------------------
    async def watch_admins(self) -> None:
        """Audit each join or invite since the last look that crosses the barrier and was
        sent by a server admin (only an admin gets one past the callbacks)."""
        try:
            since = self._since
            if since is None:  # from now on: a restart does not audit history again
                self._since = await self.api.run_db_interaction(
                    "infobarrier_stream_position", _stream_position
                )
                return
            rows = await self.api.run_db_interaction(
                "infobarrier_new_memberships", _new_memberships, since
            )
            for position, room_id, sender, target, membership in rows:
                self._since = max(self._since or 0, position)
                if self.api.is_mine(sender):
                    await self._crossing(room_id, sender, target, membership)
        except Exception:
            log.exception("infobarrier: watching admins' memberships failed")

    async def _crossing(self, room_id: str, sender: str, target: str, membership: str) -> None:
        kind, _joined, present, _creator = await self._room(room_id)
        members = [m for m in present if m != target]
        if not members:
            return
        decision = await self.decider.newcomer(self._group_action(kind), target, members)
        if decision.allowed or decision.code == "infobarrier_unavailable":
            return
        if not await self.api.is_user_admin(sender):
            return
        await self.decider.audit(
            "synapse.admin_crossing",
            {
                "room_id": room_id,
                "admin": sender,
                "user_id": target,
                "upn": self.decider.upn_of(target),
                "membership": membership,
                "code": decision.code,
                "reason": decision.reason,
                "pair": list(decision.pair) if decision.pair else None,
            },
        )

    # -- reconciliation ------------------------------------------------------------------
    async def poll(self) -> None:
        """Follow the barrier; after a change, remove whom reconciliation removes."""
        if self._reconciling:
            return
        self._reconciling = True
        try:
            if await self.decider.refresh() and self.api.should_run_background_tasks():
                await self.reconcile()
        except Exception:
            log.exception("infobarrier: poll failed")
        finally:
            self._reconciling = False

    async def reconcile(self) -> int:
        """Make every room compatible again (semantics §8); returns how many left."""
        rooms = await self.api.run_db_interaction("infobarrier_rooms", _read_rooms)
        rooms = [r for r in rooms if any(self.api.is_mine(m.user_id) for m in r.members)]
        relation = await self.decider.relation(
            [r.member_ids() for r in rooms], [room_action(r) for r in rooms]
        )
        if relation is None:
            return 0
        removals = plan_rooms(rooms, relation(None), self.decider.upn_of, relation)
        done = 0
        for removal in removals:
            detail = removal.detail(self.decider.upn_of)
            try:
                # The member leaves (sender == target): a kick needs more power than the
                # member holds, which nobody has over a trusted_private_chat's creators.
                await self.api.update_room_membership(
                    removal.user_id,
                    removal.user_id,
                    removal.room_id,
                    "leave",
                    content={"reason": f"infobarrier: {removal.reason}"},
                )
            except Exception as exc:
                log.warning("infobarrier: could not remove %s: %s", removal, exc)
                await self.decider.audit(
                    "synapse.removal_failed", {**detail, "error": f"{type(exc).__name__}: {exc}"}
                )
                continue
            done += 1
            await self.decider.audit("synapse.member_removed", detail)
        return done


def _stream_position(txn: Any) -> int:
    """The newest event's stream position."""
    txn.execute("SELECT COALESCE(MAX(stream_ordering), 0) FROM events")
    row = txn.fetchone()
    return int(row[0]) if row else 0


def _new_memberships(txn: Any, since: int) -> list[tuple[int, str, str, str, str]]:
    """Joins and invites after ``since``: (position, room, sender, target, membership)."""
    txn.execute(
        "SELECT e.stream_ordering, m.room_id, m.sender, m.user_id, m.membership "
        "FROM room_memberships AS m JOIN events AS e ON e.event_id = m.event_id "
        "WHERE e.stream_ordering > ? AND m.membership IN ('join', 'invite') "
        "ORDER BY e.stream_ordering LIMIT 1000",
        (since,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in txn.fetchall()]


def _read_rooms(txn: Any) -> list[Room]:
    """Every room's kind, creator and current members, from Synapse's tables (one pass)."""
    txn.execute(
        "SELECT c.room_id, c.state_key, c.membership, e.stream_ordering "
        "FROM current_state_events AS c JOIN events AS e ON e.event_id = c.event_id "
        "WHERE c.type = 'm.room.member' AND c.membership IN ('join', 'invite')"
    )
    members: dict[str, list[RoomMember]] = {}
    for room_id, user_id, membership, seq in txn.fetchall():
        members.setdefault(room_id, []).append(RoomMember(user_id, membership, int(seq or 0)))
    txn.execute(
        "SELECT room_id, type FROM current_state_events WHERE type IN (?, ?, ?, ?)",
        sorted(GROUP_CALL_TYPES | CALL_MEMBER_TYPES),
    )
    types: dict[str, list[str]] = {}
    for room_id, event_type in txn.fetchall():
        types.setdefault(room_id, []).append(event_type)
    txn.execute("SELECT room_id, room_type FROM room_stats_state")
    room_types = dict(txn.fetchall())
    txn.execute("SELECT room_id, creator FROM rooms")
    creators = dict(txn.fetchall())
    rooms = []
    for room_id in sorted(members):
        kind = room_kind(room_types.get(room_id), types.get(room_id, ()))
        listed = sorted(members[room_id], key=lambda m: (m.seq, m.user_id))
        rooms.append(Room(room_id, kind, creators.get(room_id), tuple(listed)))
    return rooms
