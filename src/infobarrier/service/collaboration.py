"""The collaboration service's enforcement points (semantics §7) and reconciliation (§8).

Teams, chats, meetings and calls live in the store. Every action that starts or widens a
communication asks, in order: the licensing rules (every participant enabled and holding
``TEAMS1``; a Remote Assist caller holding ``MICROSOFT_REMOTE_ASSIST``), then the barrier
(§7's pairs against the epoch in force). A refusal is a :class:`Refused` error (403 over
HTTP) and an audit entry. After every apply and every directory change, existing objects
are brought back into compliance (§8) and each action is audited with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from infobarrier.core.codes import ErrorCode
from infobarrier.core.collaboration import (
    Call,
    CallKind,
    Chat,
    ChatKind,
    CollabObject,
    Meeting,
    Team,
    TeamMode,
    collab_from_json,
)
from infobarrier.core.contract import Action as Communication
from infobarrier.core.decisions import Openings, compatibility, decide
from infobarrier.core.directory import Directory, User, new_id
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput, NotFound, Refused
from infobarrier.core.exceptions import ExceptionIndex
from infobarrier.core.licenses import LicenseBook, collaboration_refusal
from infobarrier.core.reconcile import epoch_upn_of, policy_compatible, reconcile_all
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.epochs import EpochProvider
from infobarrier.store.records import Message

_O = TypeVar("_O", Team, Chat, Meeting, Call)


@dataclass(frozen=True, slots=True)
class _Scene:
    """What one enforcement decision reads."""

    tx: TenantTx
    epoch: Epoch
    directory: Directory
    licenses: LicenseBook
    #: Active wall-crossing exceptions (§11), or ``None``.
    openings: Openings | None = None

    def user(self, upn: str) -> User:
        return self.directory.by_upn(upn)

    def present(self, ids: Iterable[str]) -> list[User]:
        """The users of these ids that still exist (a deleted user is simply skipped)."""
        found = []
        for user_id in ids:
            try:
                found.append(self.directory.user(user_id))
            except NotFound:
                continue
        return found

    def index(self, user: User) -> int:
        found = self.epoch.index_of(user.upn)
        if found is None:  # pragma: no cover - the epoch covers the whole directory
            raise NotFound(f"no user {user.upn!r}")
        return found


class CollaborationHandler:
    """Teams, chats, meetings and calls of a tenant."""

    def __init__(self, ctx: Context, epochs: EpochProvider) -> None:
        self.ctx = ctx
        self.epochs = epochs

    # -- plumbing ---------------------------------------------------------------------
    def _act(self, tenant: str, actor: str, action: str, work: Callable[[_Scene], _O]) -> _O:
        """Run ``work`` in one transaction; a refusal is audited in a transaction of its own."""
        try:
            with self.ctx.tenant_tx(tenant, actor) as tx:
                current = self.epochs.current(tx)
                scene = _Scene(
                    tx,
                    current.epoch,
                    current.directory,
                    tx.repos.licenses.load(),
                    current.exceptions.at(tx.clock()),
                )
                return work(scene)
        except Refused as refusal:
            with self.ctx.tenant_tx(tenant, actor) as tx:
                tx.audit(
                    "collaboration.refused",
                    action=action,
                    code=refusal.code,
                    kind=refusal.kind,
                    reason=refusal.message,
                    policy=refusal.policy,
                    segment=refusal.segment,
                    pair=list(refusal.pair) if refusal.pair else None,
                )
            raise

    @staticmethod
    def _license(scene: _Scene, users: Sequence[User], caller: User | None = None) -> None:
        problem = collaboration_refusal(scene.licenses, users, caller)
        if problem is not None:
            code, message, _upn = problem
            raise Refused(code, message, kind="licensing")

    @staticmethod
    def _barrier(
        scene: _Scene, action: Communication, sender: User, others: Sequence[User]
    ) -> None:
        verdict = decide(
            scene.epoch,
            action,
            scene.index(sender),
            [scene.index(o) for o in others],
            people_search_restriction=scene.tx.tenant.people_search_restriction,
            openings=scene.openings,
        )
        if not verdict.allowed:
            raise Refused(
                verdict.code,
                verdict.reason,
                policy=verdict.policy,
                segment=verdict.segment,
                pair=verdict.pair,
            )

    @staticmethod
    def _pair_check(
        scene: _Scene, newcomer: User, others: Sequence[User], action: Communication
    ) -> None:
        """The newcomer with each of ``others`` (adding someone to an existing object)."""
        for other in others:
            verdict = compatibility(
                scene.epoch,
                scene.index(newcomer),
                scene.index(other),
                action=action,
                openings=scene.openings,
            )
            if not verdict.allowed:
                raise Refused(
                    verdict.code,
                    verdict.reason,
                    policy=verdict.policy,
                    segment=verdict.segment,
                    pair=verdict.pair,
                )

    def _admit(
        self, scene: _Scene, upn: str, present: Iterable[str], action: Communication
    ) -> User:
        """A newcomer joining people already there: licensed, and compatible with each."""
        newcomer = scene.user(upn)
        self._license(scene, [newcomer])
        self._pair_check(scene, newcomer, scene.present(present), action)
        return newcomer

    @staticmethod
    def _save(scene: _Scene, obj: CollabObject, event: str, **detail: Any) -> None:
        scene.tx.repos.collab.save(obj.object_kind, obj.to_json())
        scene.tx.audit(event, object=obj.id, **detail)

    def _load(self, scene: _Scene, kind: str, object_id: str) -> CollabObject:
        return collab_from_json(scene.tx.repos.collab.get(kind, object_id))

    @staticmethod
    def _users(scene: _Scene, upns: Sequence[str]) -> list[User]:
        users = [scene.user(u) for u in upns]
        if len({u.id for u in users}) != len(users):
            raise InvalidInput("a user appears twice")
        return users

    # -- reads ----------------------------------------------------------------------------
    def objects(self, tenant: str, kind: str) -> list[CollabObject]:
        """Every object of a kind (``team``, ``chat``, ``meeting``, ``call``)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return [collab_from_json(d) for d in tx.repos.collab.objects(kind)]

    def get(self, tenant: str, kind: str, object_id: str) -> CollabObject:
        """One object."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return collab_from_json(tx.repos.collab.get(kind, object_id))

    def messages(self, tenant: str, chat_id: str) -> list[Message]:
        """A chat's history."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            tx.repos.collab.get("chat", chat_id)
            return tx.repos.collab.messages(chat_id)

    # -- teams ------------------------------------------------------------------------------
    def create_team(
        self, tenant: str, name: str, owners: Sequence[str], mode: TeamMode, actor: str
    ) -> Team:
        """A team with its owners (owners must be able to reach each other)."""

        def work(scene: _Scene) -> Team:
            users = self._users(scene, owners)
            if not users:
                raise InvalidInput("a team needs at least one owner")
            self._license(scene, users)
            if len(users) > 1:
                self._barrier(scene, Communication.GROUP_CHAT, users[0], users[1:])
            team = Team.create(new_id(), name, [u.id for u in users], mode)
            self._save(scene, team, "team.created", name=name, mode=mode.value)
            return team

        return self._act(tenant, actor, "create-team", work)

    def add_team_member(
        self, tenant: str, team_id: str, upn: str, by: str | None, actor: str
    ) -> Team:
        """``add-team-member`` of §7: Open no check; Implicit the newcomer with every member;
        OwnerModerated the newcomer with the owner who adds."""

        def work(scene: _Scene) -> Team:
            team = self._load(scene, "team", team_id)
            assert isinstance(team, Team)
            newcomer = scene.user(upn)
            self._license(scene, [newcomer])
            if team.mode is TeamMode.IMPLICIT:
                members = scene.present(team.participant_ids())
                self._pair_check(scene, newcomer, members, Communication.ADD_TEAM_MEMBER)
            elif team.mode is TeamMode.OWNER_MODERATED:
                if by is None:
                    raise InvalidInput(
                        "an OwnerModerated team's member is added by an owner: give 'by'"
                    )
                adder = scene.user(by)
                if not team.is_owner(adder.id):
                    raise InvalidInput(f"{adder.upn} is not an owner of this team")
                self._pair_check(scene, newcomer, [adder], Communication.ADD_TEAM_MEMBER)
            updated = team.with_member(newcomer.id)
            self._save(scene, updated, "team.member_added", upn=newcomer.upn)
            return updated

        return self._act(tenant, actor, "add-team-member", work)

    # -- chats ------------------------------------------------------------------------------
    def create_chat(self, tenant: str, sender: str, to: Sequence[str], actor: str) -> Chat:
        """Start a 1:1 chat (one ``to``) or a group chat (several)."""

        def work(scene: _Scene) -> Chat:
            starter = scene.user(sender)
            others = self._users(scene, to)
            self._license(scene, [starter, *others])
            action = Communication.CHAT if len(others) == 1 else Communication.GROUP_CHAT
            self._barrier(scene, action, starter, others)
            kind = ChatKind.ONE_ON_ONE if len(others) == 1 else ChatKind.GROUP
            chat = Chat.create(new_id(), kind, [starter.id, *(o.id for o in others)])
            self._save(scene, chat, "chat.created", kind=kind.value, by=starter.upn)
            return chat

        return self._act(tenant, actor, "chat", work)

    def add_chat_participant(
        self, tenant: str, chat_id: str, upn: str, by: str, actor: str
    ) -> Chat:
        """Add someone to a group chat: every pair of participants must be compatible."""

        def work(scene: _Scene) -> Chat:
            chat = self._load(scene, "chat", chat_id)
            assert isinstance(chat, Chat)
            adder = scene.user(by)
            if adder.id not in chat.participant_ids():
                raise InvalidInput(f"{adder.upn} is not in this chat")
            if chat.read_only:
                raise Refused(ErrorCode.CHAT_READ_ONLY, "the chat is read-only", kind="chat")
            if chat.kind is ChatKind.ONE_ON_ONE:
                raise InvalidInput("a 1:1 chat takes no third participant; start a group chat")
            newcomer = scene.user(upn)
            self._license(scene, [adder, newcomer])
            members = scene.present(chat.participant_ids())
            self._pair_check(scene, newcomer, members, Communication.GROUP_CHAT)
            updated = chat.with_participant(newcomer.id)
            self._save(scene, updated, "chat.participant_added", upn=newcomer.upn, by=adder.upn)
            return updated

        return self._act(tenant, actor, "group-chat", work)

    def post_message(
        self, tenant: str, chat_id: str, sender: str, text: str, actor: str
    ) -> Message:
        """Post to a chat: refused when read-only, or when the poster was removed."""
        if not text.strip():
            raise InvalidInput("a message needs text")
        posted: list[Message] = []

        def work(scene: _Scene) -> Chat:
            chat = self._load(scene, "chat", chat_id)
            assert isinstance(chat, Chat)
            poster = scene.user(sender)
            if poster.id in chat.removed:
                raise Refused(
                    ErrorCode.REMOVED_FROM_CHAT,
                    f"{poster.upn} was removed from this chat",
                    kind="chat",
                )
            if poster.id not in chat.participant_ids():
                raise InvalidInput(f"{poster.upn} is not in this chat")
            if chat.read_only:
                raise Refused(ErrorCode.CHAT_READ_ONLY, "the chat is read-only", kind="chat")
            self._license(scene, [poster])
            posted.append(scene.tx.repos.collab.add_message(chat.id, poster.id, text))
            return chat

        self._act(tenant, actor, "post-message", work)
        return posted[0]

    # -- meetings ----------------------------------------------------------------------------
    def create_meeting(
        self, tenant: str, organizer: str, subject: str, invitees: Sequence[str], actor: str
    ) -> Meeting:
        """A meeting: each invitee with the organizer and with every other invitee."""

        def work(scene: _Scene) -> Meeting:
            owner = scene.user(organizer)
            guests = self._users(scene, invitees)
            self._license(scene, [owner, *guests])
            if guests:
                self._barrier(scene, Communication.MEETING_INVITE, owner, guests)
            meeting = Meeting.create(new_id(), subject, owner.id, [g.id for g in guests])
            self._save(scene, meeting, "meeting.created", organizer=owner.upn, subject=subject)
            return meeting

        return self._act(tenant, actor, "meeting-invite", work)

    def invite(self, tenant: str, meeting_id: str, upn: str, actor: str) -> Meeting:
        """Invite one more: the newcomer with the organizer and every invitee."""

        def work(scene: _Scene) -> Meeting:
            meeting = self._load(scene, "meeting", meeting_id)
            assert isinstance(meeting, Meeting)
            newcomer = self._admit(
                scene, upn, meeting.participant_ids(), Communication.MEETING_INVITE
            )
            updated = meeting.with_invitee(newcomer.id)
            self._save(scene, updated, "meeting.invited", upn=newcomer.upn)
            return updated

        return self._act(tenant, actor, "meeting-invite", work)

    def join(self, tenant: str, meeting_id: str, upn: str, actor: str) -> Meeting:
        """An invitee joins (only invitees can; licensing applies)."""

        def work(scene: _Scene) -> Meeting:
            meeting = self._load(scene, "meeting", meeting_id)
            assert isinstance(meeting, Meeting)
            user = scene.user(upn)
            if user.id not in meeting.participant_ids():
                raise Refused(ErrorCode.NOT_INVITED, f"{user.upn} is not invited", kind="meeting")
            self._license(scene, [user])
            updated = meeting.with_joined(user.id)
            self._save(scene, updated, "meeting.joined", upn=user.upn)
            return updated

        return self._act(tenant, actor, "join-meeting", work)

    # -- calls -------------------------------------------------------------------------------
    def start_call(
        self,
        tenant: str,
        caller: str,
        to: Sequence[str],
        kind: CallKind,
        actor: str,
        meeting_id: str | None = None,
    ) -> Call:
        """A 1:1 or group call, or a Remote Assist call: every pair must be compatible."""

        def work(scene: _Scene) -> Call:
            starter = scene.user(caller)
            others = self._users(scene, to)
            if meeting_id is not None:
                scene.tx.repos.collab.get("meeting", meeting_id)
            self._license(
                scene, [starter, *others], starter if kind is CallKind.REMOTE_ASSIST else None
            )
            self._barrier(scene, Communication.CALL, starter, others)
            call = Call.create(
                new_id(), [starter.id, *(o.id for o in others)], kind=kind, meeting_id=meeting_id
            )
            self._save(scene, call, "call.started", kind=kind.value, caller=starter.upn)
            return call

        return self._act(tenant, actor, "call", work)

    def add_call_participant(self, tenant: str, call_id: str, upn: str, actor: str) -> Call:
        """Bring someone into a live call: the newcomer with every participant."""

        def work(scene: _Scene) -> Call:
            call = self._load(scene, "call", call_id)
            assert isinstance(call, Call)
            newcomer = self._admit(scene, upn, call.participant_ids(), Communication.CALL)
            updated = call.with_participant(newcomer.id)
            self._save(scene, updated, "call.participant_added", upn=newcomer.upn)
            return updated

        return self._act(tenant, actor, "call", work)

    def share_screen(self, tenant: str, call_id: str, upn: str, actor: str) -> Call:
        """``share-screen``: the sharer with every other participant of the call."""

        def work(scene: _Scene) -> Call:
            call = self._load(scene, "call", call_id)
            assert isinstance(call, Call)
            sharer = scene.user(upn)
            if sharer.id not in call.participant_ids():
                raise InvalidInput(f"{sharer.upn} is not in this call")
            others = scene.present(m for m in call.participant_ids() if m != sharer.id)
            self._license(scene, [sharer])
            if others:
                self._barrier(scene, Communication.SHARE_SCREEN, sharer, others)
            updated = call.sharing_by(sharer.id)
            self._save(scene, updated, "call.screen_shared", upn=sharer.upn)
            return updated

        return self._act(tenant, actor, "share-screen", work)

    def end_call(self, tenant: str, call_id: str, actor: str) -> Call:
        """End a live call."""

        def work(scene: _Scene) -> Call:
            call = self._load(scene, "call", call_id)
            assert isinstance(call, Call)
            updated = call.ended()
            self._save(scene, updated, "call.ended")
            return updated

        return self._act(tenant, actor, "end-call", work)

    # -- reconciliation (§8) --------------------------------------------------------------------
    @staticmethod
    def plan_all(tx: TenantTx, epoch: Epoch) -> tuple[list[CollabObject], list[dict[str, Any]]]:
        """What §8 would do to the tenant's objects under ``epoch`` (nothing saved)."""
        objects = [collab_from_json(d) for d in tx.repos.collab.objects()]
        if not objects:
            return [], []
        upn_of = epoch_upn_of(epoch)
        base = policy_compatible(epoch)
        # Pairs an active exception opens stay together, for the objects of its actions (§11).
        openings = ExceptionIndex(tx.repos.exceptions.approved()).at(tx.clock())
        per_object = openings.relation_for(epoch, base) if openings is not None else None
        changed, actions = reconcile_all(objects, base, upn_of, per_object)
        described = [
            {
                **a.as_dict(),
                "reason": a.describe(upn_of),
                "upn": upn_of(a.user_id) if a.user_id else None,
            }
            for a in actions
        ]
        return changed, described

    @classmethod
    def reconcile_in(
        cls, tx: TenantTx, epoch: Epoch, cause: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Bring every object back into compliance, save, and audit each action (with
        ``cause`` in each entry, e.g. the exception whose expiry caused it)."""
        changed, actions = cls.plan_all(tx, epoch)
        tx.repos.collab.save_many([(obj.object_kind, obj.to_json()) for obj in changed])
        # One hash-chained insert for all of them (an expiry of many exceptions at once).
        tx.audit_many([("reconciliation." + a["kind"], {**a, **(cause or {})}) for a in actions])
        return actions

    def reconcile_now(self, tx: TenantTx) -> list[dict[str, Any]]:
        """After a directory change in ``tx``: recompile and reconcile, if any object exists."""
        if not tx.repos.collab.objects():
            return []
        return self.reconcile_in(tx, self.epochs.epoch_after_writes(tx))
