"""Reconciliation of existing communications after an epoch or a user changes (semantics §8).

When the barrier changes, communications that were allowed may no longer be. §8 says what
happens to each kind of collaboration object; this module turns that into a *plan* (a list
of :class:`Action`, each with its reason) and applies it, purely:

- a 1:1 chat whose two users are no longer compatible becomes read-only (once);
- a group chat, a meeting (organizer and invitees) and an ``Implicit`` team are made
  compatible again by :func:`greedy removal <removal_order>`;
- an ``OwnerModerated`` team loses the members incompatible with every owner; an ``Open``
  team is left alone;
- a live call with an incompatible pair ends.

Only incompatibility from segments and policies counts (§8): see :func:`policy_compatible`.
The service writes every action to the audit log (§8, §9) with :attr:`Action.reason`, or
with :meth:`Action.describe` to name users by UPN instead of id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never, overload

from infobarrier.core.collaboration import (
    Call,
    Chat,
    ChatKind,
    CollabObject,
    Meeting,
    ObjectKind,
    Team,
    TeamMode,
)
from infobarrier.core.directory import fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput

#: ``compatible(u, v)`` over user ids, as reconciliation counts it (see :func:`policy_compatible`).
Compatible = Callable[[str, str], bool]

#: A user's UPN by user id (the greedy rule's last tie-break, and readable reasons).
UpnOf = Callable[[str], str]

#: The seq a meeting's organizer gets in the greedy rule: earlier than every invitee.
ORGANIZER_SEQ = -1


def policy_compatible(epoch: Epoch) -> Compatible:
    """``compatible(u, v)`` of §6 restricted to what §8 counts: segments and policies.

    §8: a disabled account or an ``IBPolicyConflict`` blocks the user from acting but
    removes them from nothing, so here:

    - the same user is compatible with themself;
    - a user unknown to the epoch (e.g. deleted from the directory) is compatible with
      everyone: the epoch cannot justify a removal, so they are left where they are;
    - a user in ``IBPolicyConflict`` is compatible with everyone (checked before the profile
      table, whose rows for conflict profiles are all false: fail closed is for acting);
    - disabled accounts and, in Legacy mode, hidden users are not special: only their
      segments count (the profile table ignores both);
    - otherwise the epoch's profile table ``compat`` decides.

    The relation is symmetric, like the epoch's table (enforcement is two-way, §4).
    """
    conflict = [bool(c) for c in epoch.conflict]
    compat = epoch.compat

    def compatible(u: str, v: str) -> bool:
        if u == v:
            return True
        i, j = epoch.index_of_id(u), epoch.index_of_id(v)
        if i is None or j is None:
            return True
        p, q = epoch.profile(i), epoch.profile(j)
        if conflict[p] or conflict[q]:
            return True
        return bool(compat[p, q])

    return compatible


def epoch_upn_of(epoch: Epoch) -> UpnOf:
    """A user's UPN in ``epoch`` by user id; an id unknown to the epoch stands for itself."""
    upns = dict(zip(epoch.user_ids, epoch.upns, strict=True))
    return lambda uid: upns.get(uid, uid)


class ActionKind(StrEnum):
    """What reconciliation does to an object (§8)."""

    CHAT_READ_ONLY = "chat_read_only"
    CHAT_PARTICIPANT_REMOVED = "chat_participant_removed"
    TEAM_MEMBER_REMOVED = "team_member_removed"
    MEETING_INVITEE_REMOVED = "meeting_invitee_removed"
    MEETING_ORGANIZER_REMOVED = "meeting_organizer_removed"
    TEAM_OWNER_REMOVED = "team_owner_removed"
    CALL_ENDED = "call_ended"


class Rule(StrEnum):
    """The sentence of §8 that caused an action (a stable, machine-readable code)."""

    #: A 1:1 chat whose users are no longer compatible becomes read-only.
    ONE_ON_ONE = "one_on_one_incompatible"
    #: Greedy removal: the participant with the most incompatibilities among those left.
    MOST_INCOMPATIBILITIES = "most_incompatibilities"
    #: Greedy removal of an owner or organizer: no one else was still incompatible.
    PROTECTED_LAST = "protected_last"
    #: An OwnerModerated team's member incompatible with every owner.
    EVERY_OWNER = "incompatible_with_every_owner"
    #: A live call with an incompatible pair ends.
    LIVE_CALL = "incompatible_pair_in_call"


_EFFECT = {
    ActionKind.CHAT_READ_ONLY: "the 1:1 chat becomes read-only",
    ActionKind.CHAT_PARTICIPANT_REMOVED: "removed from the chat, keeping read-only history",
    ActionKind.TEAM_MEMBER_REMOVED: "removed from the team",
    ActionKind.TEAM_OWNER_REMOVED: "removed from the team (and its owners)",
    ActionKind.MEETING_INVITEE_REMOVED: "removed from the meeting",
    ActionKind.MEETING_ORGANIZER_REMOVED: "removed from the meeting",
    ActionKind.CALL_ENDED: "the call ends",
}


def _render(
    kind: ActionKind,
    rule: Rule,
    user_id: str | None,
    pairs: Sequence[tuple[str, str]],
    name: UpnOf,
) -> str:
    effect = _EFFECT[kind]
    if rule is Rule.ONE_ON_ONE:
        a, b = pairs[0]
        return f"{name(a)} and {name(b)} are no longer compatible (segments and policies); {effect}"
    if rule is Rule.LIVE_CALL:
        listed = "; ".join(f"{name(a)} and {name(b)}" for a, b in pairs)
        return f"incompatible pair(s) in the live call: {listed}; {effect}"
    assert user_id is not None
    who = name(user_id)
    others = ", ".join(name(b) for _, b in pairs)
    if rule is Rule.EVERY_OWNER:
        return (
            f"{who} is incompatible with every owner of the OwnerModerated team ({others}); "
            f"{effect}"
        )
    if rule is Rule.PROTECTED_LAST:
        role = "organizer" if kind is ActionKind.MEETING_ORGANIZER_REMOVED else "owner"
        return (
            f"{who} ({role}) is incompatible with {len(pairs)} remaining participant(s) "
            f"({others}) and no one else is still incompatible; {effect}"
        )
    return (
        f"{who} has the most incompatibilities among the remaining participants "
        f"({len(pairs)}: {others}; ties: most recently joined, then greater UPN); {effect}"
    )


@dataclass(frozen=True, slots=True)
class Action:
    """One reconciliation action and why (§8), to be applied and written to the audit log.

    ``user_id`` is the user removed (``None`` when a chat becomes read-only or a call ends).
    ``pairs`` are the incompatible pairs the reason names, as user ids: for a removal,
    ``(user_id, other)`` for each remaining participant (or owner) ``user_id`` was
    incompatible with; for a 1:1 chat, its two users; for a call, every incompatible pair.
    ``pair`` is the first of them. ``reason`` names users by id; :meth:`describe` gives
    the same sentence with other names (UPNs).
    """

    kind: ActionKind
    object_kind: ObjectKind
    object_id: str
    user_id: str | None
    reason: str
    pair: tuple[str, str] | None
    pairs: tuple[tuple[str, str], ...]
    rule: Rule

    @classmethod
    def make(
        cls,
        kind: ActionKind,
        obj: CollabObject,
        user_id: str | None,
        rule: Rule,
        pairs: Sequence[tuple[str, str]],
    ) -> Action:
        """An action on ``obj`` with its reason rendered from ``rule`` and ``pairs``.

        Every rule needs at least one pair; all but ``ONE_ON_ONE`` and ``LIVE_CALL`` name
        the user removed.
        """
        if not pairs:
            raise InvalidInput(f"{kind.value}: a reason needs at least one pair")
        if user_id is None and rule not in (Rule.ONE_ON_ONE, Rule.LIVE_CALL):
            raise InvalidInput(f"{kind.value}: rule {rule.value} names the user removed")
        return cls(
            kind=kind,
            object_kind=obj.object_kind,
            object_id=obj.id,
            user_id=user_id,
            reason=_render(kind, rule, user_id, pairs, str),
            pair=pairs[0] if pairs else None,
            pairs=tuple(pairs),
            rule=rule,
        )

    def describe(self, name_of: UpnOf) -> str:
        """The reason with every user named by ``name_of`` (e.g. :func:`epoch_upn_of`)."""
        return _render(self.kind, self.rule, self.user_id, self.pairs, name_of)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, e.g. an audit entry's detail."""
        return {
            "kind": self.kind.value,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "user_id": self.user_id,
            "rule": self.rule.value,
            "reason": self.reason,
            "pair": list(self.pair) if self.pair else None,
            "pairs": [list(p) for p in self.pairs],
        }


def _compatible(compatible: Compatible, u: str, v: str) -> bool:
    """Both directions must agree, so an asymmetric ``compatible`` still gives one answer."""
    return compatible(u, v) and compatible(v, u)


@dataclass(frozen=True, slots=True)
class Removal:
    """One step of the greedy rule: who goes, whether protected, and who they clashed with.

    ``others`` are the remaining participants ``user_id`` was incompatible with when
    removed, in participant order.
    """

    user_id: str
    protected: bool
    others: tuple[str, ...]


def removal_order(
    entrants: Sequence[tuple[str, int, bool]], compatible: Compatible, upn_of: UpnOf
) -> list[Removal]:
    """§8's greedy rule over ``(user_id, seq, protected)`` entrants, in participant order.

    Repeatedly remove, among the remaining participants with at least one incompatible
    remaining participant, the one with the most such incompatibilities; ties: the
    highest ``seq`` (most recently joined), then the greater UPN (compared case-
    insensitively, then by user id, so the order is total). Protected entrants (a team's
    owners, a meeting's organizer) are candidates only when no unprotected one is still
    incompatible with anyone. Stop when every remaining pair is compatible.

    The removal order does not depend on the entrants' order. Cost: one ``compatible``
    question (both ways) per pair, then ``O(removals * n)``.
    """
    ids = [uid for uid, _, _ in entrants]
    n = len(ids)
    bad: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if not _compatible(compatible, ids[i], ids[j]):
                bad[i].append(j)
                bad[j].append(i)
    alive = [True] * n
    count = [len(b) for b in bad]
    upn_key: dict[int, str] = {}

    def key(i: int) -> tuple[int, int, str, str]:
        if i not in upn_key:
            upn_key[i] = fold(upn_of(ids[i]))
        return count[i], entrants[i][1], upn_key[i], ids[i]

    steps: list[Removal] = []
    while True:
        offenders = [i for i in range(n) if alive[i] and count[i] > 0]
        if not offenders:
            return steps
        pool = [i for i in offenders if not entrants[i][2]] or offenders
        victim = max(pool, key=key)
        others = tuple(ids[j] for j in sorted(bad[victim]) if alive[j])
        steps.append(Removal(ids[victim], entrants[victim][2], others))
        alive[victim] = False
        for j in bad[victim]:
            count[j] -= 1


def _greedy_actions(
    obj: CollabObject,
    entrants: Sequence[tuple[str, int, bool]],
    kinds: tuple[ActionKind, ActionKind],
    compatible: Compatible,
    upn_of: UpnOf,
) -> list[Action]:
    """Actions for :func:`removal_order`; ``kinds`` = (unprotected kind, protected kind)."""
    actions = []
    for step in removal_order(entrants, compatible, upn_of):
        kind = kinds[1] if step.protected else kinds[0]
        rule = Rule.PROTECTED_LAST if step.protected else Rule.MOST_INCOMPATIBILITIES
        pairs = [(step.user_id, other) for other in step.others]
        actions.append(Action.make(kind, obj, step.user_id, rule, pairs))
    return actions


def _plan_chat(chat: Chat, compatible: Compatible, upn_of: UpnOf) -> list[Action]:
    if chat.read_only:
        return []  # §8: a read-only chat stays read-only; nothing further happens to it.
    if chat.kind is ChatKind.ONE_ON_ONE:
        a, b = chat.participant_ids()
        if _compatible(compatible, a, b):
            return []
        return [Action.make(ActionKind.CHAT_READ_ONLY, chat, None, Rule.ONE_ON_ONE, [(a, b)])]
    entrants = [(p.user_id, p.seq, False) for p in chat.participants]
    kind = ActionKind.CHAT_PARTICIPANT_REMOVED
    return _greedy_actions(chat, entrants, (kind, kind), compatible, upn_of)


def _plan_team(team: Team, compatible: Compatible, upn_of: UpnOf) -> list[Action]:
    if team.mode is TeamMode.OPEN:
        return []
    if team.mode is TeamMode.OWNER_MODERATED:
        actions = []
        for member in team.members:
            uid = member.user_id
            if not team.owners or team.is_owner(uid):
                continue
            if not any(_compatible(compatible, uid, owner) for owner in team.owners):
                pairs = [(uid, owner) for owner in team.owners]
                kind = ActionKind.TEAM_MEMBER_REMOVED
                actions.append(Action.make(kind, team, uid, Rule.EVERY_OWNER, pairs))
        return actions
    entrants = [(m.user_id, m.seq, team.is_owner(m.user_id)) for m in team.members]
    kinds = (ActionKind.TEAM_MEMBER_REMOVED, ActionKind.TEAM_OWNER_REMOVED)
    return _greedy_actions(team, entrants, kinds, compatible, upn_of)


def _plan_meeting(meeting: Meeting, compatible: Compatible, upn_of: UpnOf) -> list[Action]:
    entrants = [(meeting.organizer, ORGANIZER_SEQ, True)]
    entrants += [(i.user_id, i.seq, False) for i in meeting.invitees]
    kinds = (ActionKind.MEETING_INVITEE_REMOVED, ActionKind.MEETING_ORGANIZER_REMOVED)
    return _greedy_actions(meeting, entrants, kinds, compatible, upn_of)


def _plan_call(call: Call, compatible: Compatible) -> list[Action]:
    if not call.live:
        return []
    ids = call.participant_ids()
    pairs = [
        (a, b) for i, a in enumerate(ids) for b in ids[i + 1 :] if not _compatible(compatible, a, b)
    ]
    if not pairs:
        return []
    return [Action.make(ActionKind.CALL_ENDED, call, None, Rule.LIVE_CALL, pairs)]


def plan(obj: CollabObject, compatible: Compatible, upn_of: UpnOf) -> list[Action]:
    """The actions §8 takes on one object, in the order they are to be applied.

    ``compatible`` is usually :func:`policy_compatible` of the new epoch and ``upn_of``
    :func:`epoch_upn_of`. Deterministic: the same object and relation give the same plan.
    A meeting's organizer never appears in a plan: anyone incompatible with the
    organizer is an invitee who is still incompatible, and is removed first.
    """
    if isinstance(obj, Chat):
        return _plan_chat(obj, compatible, upn_of)
    if isinstance(obj, Team):
        return _plan_team(obj, compatible, upn_of)
    if isinstance(obj, Meeting):
        return _plan_meeting(obj, compatible, upn_of)
    if isinstance(obj, Call):
        return _plan_call(obj, compatible)
    assert_never(obj)


def _subject(action: Action) -> str:
    if action.user_id is None:
        raise InvalidInput(f"action {action.kind.value} needs a user_id")
    return action.user_id


def _apply_one(obj: CollabObject, action: Action) -> CollabObject:
    kind = action.kind
    if isinstance(obj, Chat):
        if kind is ActionKind.CHAT_READ_ONLY:
            return obj.made_read_only()
        if kind is ActionKind.CHAT_PARTICIPANT_REMOVED:
            return obj.without_participant(_subject(action))
    elif isinstance(obj, Team):
        if kind in (ActionKind.TEAM_MEMBER_REMOVED, ActionKind.TEAM_OWNER_REMOVED):
            user = _subject(action)
            if obj.is_owner(user) != (kind is ActionKind.TEAM_OWNER_REMOVED):
                role = "an owner" if obj.is_owner(user) else "not an owner"
                raise InvalidInput(f"{kind.value}: user {user} is {role} of team {obj.id}")
            return obj.without_member(user)
    elif isinstance(obj, Meeting):
        if kind is ActionKind.MEETING_INVITEE_REMOVED:
            return obj.without_invitee(_subject(action))
        if kind is ActionKind.MEETING_ORGANIZER_REMOVED:
            raise InvalidInput(f"meeting {obj.id}: a meeting keeps its organizer")
    elif isinstance(obj, Call) and kind is ActionKind.CALL_ENDED:
        return obj.ended()
    raise InvalidInput(f"action {kind.value} does not apply to a {obj.object_kind}")


@overload
def apply_plan(obj: Team, actions: Iterable[Action]) -> Team: ...
@overload
def apply_plan(obj: Chat, actions: Iterable[Action]) -> Chat: ...
@overload
def apply_plan(obj: Meeting, actions: Iterable[Action]) -> Meeting: ...
@overload
def apply_plan(obj: Call, actions: Iterable[Action]) -> Call: ...
@overload
def apply_plan(obj: CollabObject, actions: Iterable[Action]) -> CollabObject: ...
def apply_plan(obj: CollabObject, actions: Iterable[Action]) -> CollabObject:
    """``obj`` after ``actions`` (from :func:`plan`), applied in order; a new object.

    Each action must name this object (kind and id) and fit its current state (the
    user is still there, the chat is not yet read-only, the call is live), else
    :class:`InvalidInput`. ``meeting_organizer_removed`` is refused: a meeting keeps
    its organizer (and :func:`plan` never produces that action).
    """
    for action in actions:
        if action.object_kind != obj.object_kind or action.object_id != obj.id:
            raise InvalidInput(
                f"action on {action.object_kind} {action.object_id} applied to "
                f"{obj.object_kind} {obj.id}"
            )
        obj = _apply_one(obj, action)
    return obj


def reconcile_all(
    objects: Iterable[CollabObject],
    compatible: Compatible,
    upn_of: UpnOf,
    compatible_for: Callable[[CollabObject], Compatible] | None = None,
) -> tuple[list[CollabObject], list[Action]]:
    """Plan and apply §8 for every object.

    ``compatible_for``, when given, chooses the relation per object (wall-crossing
    exceptions open pairs for some kinds of communication only, §11); else ``compatible``
    holds for all. Returns the changed objects and every action, both in the order of
    ``objects``.
    """
    changed: list[CollabObject] = []
    actions: list[Action] = []
    for obj in objects:
        relation = compatible if compatible_for is None else compatible_for(obj)
        steps = plan(obj, relation, upn_of)
        if steps:
            changed.append(apply_plan(obj, steps))
            actions.extend(steps)
    return changed, actions


__all__ = [
    "ORGANIZER_SEQ",
    "Action",
    "ActionKind",
    "Compatible",
    "Removal",
    "Rule",
    "UpnOf",
    "apply_plan",
    "epoch_upn_of",
    "plan",
    "policy_compatible",
    "reconcile_all",
]
