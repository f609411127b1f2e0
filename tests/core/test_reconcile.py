"""Reconciliation of existing communications (semantics §8): every rule and tie-break.

Hand-made cases use a hand-made relation (``relation``) or a compiled epoch
(``core_builders``); a property test compares the greedy removals with a brute-force
re-implementation of §8's rule written here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from core_builders import Tenant, block, tenant, upn
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.barriers import Mode
from infobarrier.core.collaboration import (
    Call,
    CallKind,
    Chat,
    ChatKind,
    CollabObject,
    Meeting,
    Member,
    Team,
    TeamMode,
)
from infobarrier.core.decisions import compatibility
from infobarrier.core.errors import InvalidInput
from infobarrier.core.reconcile import (
    Action,
    ActionKind,
    Compatible,
    Rule,
    apply_plan,
    epoch_upn_of,
    plan,
    policy_compatible,
    reconcile_all,
    removal_order,
)


def relation(*bad: str) -> Compatible:
    """A symmetric relation over short ids: ``"a-b"`` makes a and b incompatible."""
    pairs = {frozenset(p.split("-")) for p in bad}
    return lambda u, v: frozenset((u, v)) not in pairs


def upn_of(uid: str) -> str:
    return f"{uid}@contoso.com"


def removed(actions: Sequence[Action]) -> list[str | None]:
    return [a.user_id for a in actions]


def group_chat(*members: tuple[str, int]) -> Chat:
    seqs = [s for _, s in members]
    participants = tuple(Member(u, s) for u, s in members)
    return Chat("c", ChatKind.GROUP, participants, next_seq=max(seqs, default=-1) + 1)


# -- policy_compatible ---------------------------------------------------------------------

SEGMENTS = {
    "A": "Department -eq 'A'",
    "B": "Department -eq 'B'",
    "C": "Department -eq 'C'",
    "Ops": "Company -eq 'Ops'",
}


def abc_tenant(mode: Mode = Mode.SINGLE_SEGMENT) -> Tenant:
    """a1, a2 in A (A blocks B), b1 in B, c1 in C; d disabled in C; x in A and Ops (conflict)."""
    users: dict[str, dict[str, Any]] = {
        "a1": {"department": "A"},
        "a2": {"department": "A"},
        "b1": {"department": "B"},
        "c1": {"department": "C"},
        "d": {"department": "C", "enabled": False},
        "db": {"department": "B", "enabled": False},
        "x": {"department": "A", "company": "Ops"},
        "n": {},
    }
    return tenant(users, mode=mode, segments=SEGMENTS, policies={"A": block("B")})


def test_policy_compatible_counts_only_segments_and_policies() -> None:
    t = abc_tenant()
    ok = policy_compatible(t.epoch)

    def i(name: str) -> str:
        return f"id-{name}"

    # Segments and policies: A blocks B, both ways.
    assert not ok(i("a1"), i("b1"))
    assert not ok(i("b1"), i("a1"))
    assert ok(i("a1"), i("a2"))
    assert ok(i("a1"), i("c1"))
    assert ok(i("a1"), i("n"))
    # Disabled: §6 says no, §8 does not count it; its segment still counts.
    assert not compatibility(t.epoch, t.ix("d"), t.ix("c1")).allowed
    assert ok(i("d"), i("c1"))
    assert ok(i("d"), i("a1"))
    assert not ok(i("db"), i("a1"))
    # IBPolicyConflict: fail closed for acting (§5), removed from nothing (§8).
    assert t.epoch.in_conflict(t.ix("x"))
    assert not compatibility(t.epoch, t.ix("x"), t.ix("a1")).allowed
    assert ok(i("x"), i("a1"))
    assert ok(i("x"), i("b1"))
    assert ok(i("b1"), i("x"))
    # The same user; a user the epoch does not know.
    assert ok(i("b1"), i("b1"))
    assert ok(i("x"), i("x"))
    assert ok("id-nobody", i("a1"))
    assert ok(i("b1"), "id-nobody")


def test_policy_compatible_legacy_hidden_users_are_not_removed() -> None:
    users: dict[str, dict[str, Any]] = {
        "a1": {"department": "A"},
        "b1": {"department": "B"},
        "guest": {"guest": True},
        "hid": {"department": "A", "hidden": True},
    }
    t = tenant(users, mode=Mode.LEGACY, segments=SEGMENTS, policies={"A": block("B")})
    ok = policy_compatible(t.epoch)
    assert not compatibility(t.epoch, t.ix("guest"), t.ix("a1")).allowed
    assert ok("id-guest", "id-a1")
    assert ok("id-hid", "id-a1")
    assert not ok("id-hid", "id-b1")  # hidden, but its segment's policy still counts
    assert not ok("id-a1", "id-b1")


def test_epoch_upn_of() -> None:
    t = abc_tenant()
    name = epoch_upn_of(t.epoch)
    assert name("id-a1") == upn("a1")
    assert name("id-unknown") == "id-unknown"


def test_reconcile_with_an_epoch_leaves_disabled_and_conflict_users() -> None:
    t = abc_tenant()
    ok, name = policy_compatible(t.epoch), epoch_upn_of(t.epoch)
    members = ["id-a1", "id-a2", "id-b1", "id-d", "id-x", "id-n"]
    chat = Chat.create("c", ChatKind.GROUP, members)
    actions = plan(chat, ok, name)
    # b1 is incompatible with a1 and a2; d (disabled) and x (conflict) stay.
    assert removed(actions) == ["id-b1"]
    assert actions[0].pairs == (("id-b1", "id-a1"), ("id-b1", "id-a2"))
    assert "id-b1" in actions[0].reason
    assert upn("b1") in actions[0].describe(name)
    assert upn("a2") in actions[0].describe(name)
    after = apply_plan(chat, actions)
    assert after.participant_ids() == ("id-a1", "id-a2", "id-d", "id-x", "id-n")
    assert after.removed == ("id-b1",)


def test_reconcile_with_a_legacy_epoch_tie_breaks_by_upn() -> None:
    users: dict[str, dict[str, Any]] = {
        "a1": {"department": "A"},
        "b1": {"department": "B"},
        "guest": {"guest": True},
    }
    t = tenant(users, mode=Mode.LEGACY, segments=SEGMENTS, policies={"A": block("B")})
    chat = Chat.create("c", ChatKind.GROUP, ["id-guest", "id-b1", "id-a1"])
    actions = plan(chat, policy_compatible(t.epoch), epoch_upn_of(t.epoch))
    # a1 and b1: one incompatibility each, joined together: the greater UPN (b1) goes.
    assert removed(actions) == ["id-b1"]


# -- 1:1 chats -------------------------------------------------------------------------------


def test_one_on_one_chat_becomes_read_only_once() -> None:
    chat = Chat.create("c", ChatKind.ONE_ON_ONE, ["a", "b"])
    assert plan(chat, relation(), upn_of) == []
    actions = plan(chat, relation("a-b"), upn_of)
    assert len(actions) == 1
    action = actions[0]
    assert action.kind is ActionKind.CHAT_READ_ONLY
    assert action.rule is Rule.ONE_ON_ONE
    assert (action.object_kind, action.object_id, action.user_id) == ("chat", "c", None)
    assert action.pair == ("a", "b")
    assert "a and b" in action.reason
    after = apply_plan(chat, actions)
    assert after.read_only
    assert after.participant_ids() == ("a", "b")
    # A read-only chat stays read-only: nothing further, compatible again or not.
    assert plan(after, relation("a-b"), upn_of) == []
    assert plan(after, relation(), upn_of) == []
    with pytest.raises(InvalidInput, match="already read-only"):
        apply_plan(after, actions)


def test_read_only_group_chat_is_left_alone() -> None:
    chat = Chat("c", ChatKind.GROUP, (Member("a", 0), Member("b", 0)), (), True, 1)
    assert plan(chat, relation("a-b"), upn_of) == []


# -- greedy removal: group chats -------------------------------------------------------------


def test_most_incompatibilities_first() -> None:
    # a clashes with b, c and d; joined first, but has the most incompatibilities.
    chat = group_chat(("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4))
    actions = plan(chat, relation("a-b", "a-c", "a-d"), upn_of)
    assert removed(actions) == ["a"]
    action = actions[0]
    assert action.kind is ActionKind.CHAT_PARTICIPANT_REMOVED
    assert action.rule is Rule.MOST_INCOMPATIBILITIES
    assert action.pairs == (("a", "b"), ("a", "c"), ("a", "d"))
    assert action.pair == ("a", "b")
    assert "3: b, c, d" in action.reason
    after = apply_plan(chat, actions)
    assert after.participant_ids() == ("b", "c", "d", "e")
    assert after.removed == ("a",)


def test_counts_are_among_those_left() -> None:
    # b: 3 (a, c, d); a: 2 (b, e). b goes first; then a still clashes with e: 1 each,
    # e joined later than a, so e goes; a stays.
    chat = group_chat(("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4))
    actions = plan(chat, relation("a-b", "b-c", "b-d", "a-e"), upn_of)
    assert removed(actions) == ["b", "e"]
    assert actions[1].pairs == (("e", "a"),)
    assert apply_plan(chat, actions).removed == ("b", "e")


def test_tie_most_recently_joined() -> None:
    chat = group_chat(("late", 5), ("early", 1))
    assert removed(plan(chat, relation("early-late"), upn_of)) == ["late"]
    chat = group_chat(("late", 1), ("early", 5))
    assert removed(plan(chat, relation("early-late"), upn_of)) == ["early"]


def test_tie_greater_upn_case_insensitively() -> None:
    chat = group_chat(("u1", 3), ("u2", 3))
    names = {"u1": "Zed@contoso.com", "u2": "amy@contoso.com"}
    # "Zed" < "amy" as raw strings, but the greater UPN case-insensitively is Zed.
    assert removed(plan(chat, relation("u1-u2"), names.__getitem__)) == ["u1"]
    names = {"u1": "amy@contoso.com", "u2": "Zed@contoso.com"}
    assert removed(plan(chat, relation("u1-u2"), names.__getitem__)) == ["u2"]


def test_tie_break_order_is_count_then_seq_then_upn() -> None:
    # c and d have 2 each (more than anyone); d joined later; b joined last but has only 1.
    chat = group_chat(("a", 0), ("b", 9), ("c", 1), ("d", 2), ("e", 3), ("f", 4))
    actions = plan(chat, relation("c-a", "c-b", "d-e", "d-f"), upn_of)
    assert removed(actions) == ["d", "c"]


def test_compatible_group_chat_unchanged() -> None:
    chat = group_chat(("a", 0), ("b", 1))
    assert plan(chat, relation("a-z"), upn_of) == []
    assert reconcile_all([chat], relation(), upn_of) == ([], [])


# -- greedy removal: Implicit teams ----------------------------------------------------------


def test_implicit_team_owner_protected_while_others_are_incompatible() -> None:
    team = Team.create("t", "T", ["own"]).with_member("m1").with_member("m2")
    # The owner has the most incompatibilities (2), but members go first.
    actions = plan(team, relation("own-m1", "own-m2"), upn_of)
    assert removed(actions) == ["m2", "m1"]
    assert {a.kind for a in actions} == {ActionKind.TEAM_MEMBER_REMOVED}
    after = apply_plan(team, actions)
    assert after.participant_ids() == ("own",)
    assert after.owners == ("own",)


def test_implicit_team_owner_removed_when_no_one_else_is_incompatible() -> None:
    team = Team.create("t", "T", ["o1"]).with_member("o2").with_member("m").with_owner("o2")
    actions = plan(team, relation("o1-o2", "o1-m"), upn_of)
    # m goes first (owners are protected); then o1 and o2 clash, one each, o2 joined later.
    assert removed(actions) == ["m", "o2"]
    assert [a.kind for a in actions] == [
        ActionKind.TEAM_MEMBER_REMOVED,
        ActionKind.TEAM_OWNER_REMOVED,
    ]
    assert actions[1].rule is Rule.PROTECTED_LAST
    assert "(owner)" in actions[1].reason
    assert "no one else is still incompatible" in actions[1].reason
    after = apply_plan(team, actions)
    assert after.owners == ("o1",)
    assert after.participant_ids() == ("o1",)


def test_implicit_team_member_clash_does_not_touch_owner() -> None:
    team = Team.create("t", "T", ["own"]).with_member("m1").with_member("m2")
    actions = plan(team, relation("m1-m2"), upn_of)
    assert removed(actions) == ["m2"]
    assert apply_plan(team, actions).owners == ("own",)


# -- greedy removal: meetings ----------------------------------------------------------------


def test_meeting_organizer_never_removed() -> None:
    meeting = (
        Meeting.create("m", "S", "org", ["i1"])
        .with_invitee("i2")
        .with_invitee("i3")
        .with_joined("i1")
        .with_joined("org")
    )
    # The organizer clashes with everyone; the invitees go, latest invited first.
    actions = plan(meeting, relation("org-i1", "org-i2", "org-i3"), upn_of)
    assert removed(actions) == ["i3", "i2", "i1"]
    assert {a.kind for a in actions} == {ActionKind.MEETING_INVITEE_REMOVED}
    after = apply_plan(meeting, actions)
    assert after.organizer == "org"
    assert after.invitees == ()
    assert after.joined == ("org",)


def test_meeting_invitees_among_themselves() -> None:
    meeting = Meeting.create("m", "S", "org", ["i1", "i2"]).with_invitee("i3")
    actions = plan(meeting, relation("i1-i2", "i1-i3"), upn_of)
    assert removed(actions) == ["i1"]
    assert apply_plan(meeting, actions).participant_ids() == ("org", "i2", "i3")


# -- OwnerModerated and Open teams -----------------------------------------------------------


def test_owner_moderated_team_loses_members_incompatible_with_every_owner() -> None:
    team = Team.create("t", "T", ["o1", "o2"], TeamMode.OWNER_MODERATED)
    for uid in ("m1", "m2", "m3"):
        team = team.with_member(uid)
    compatible = relation("m1-o1", "m2-o1", "m2-o2", "m3-m1", "o1-o2")
    actions = plan(team, compatible, upn_of)
    # m1 is compatible with o2; members may clash among themselves; owners are kept.
    assert removed(actions) == ["m2"]
    action = actions[0]
    assert action.kind is ActionKind.TEAM_MEMBER_REMOVED
    assert action.rule is Rule.EVERY_OWNER
    assert action.pairs == (("m2", "o1"), ("m2", "o2"))
    assert "every owner" in action.reason
    after = apply_plan(team, actions)
    assert after.participant_ids() == ("o1", "o2", "m1", "m3")


def test_owner_moderated_team_without_owners_is_left_alone() -> None:
    team = Team("t", "T", TeamMode.OWNER_MODERATED, (), (Member("a", 0), Member("b", 1)), 2)
    assert plan(team, relation("a-b"), upn_of) == []


def test_open_team_is_left_alone() -> None:
    team = Team.create("t", "T", ["o"], TeamMode.OPEN).with_member("a").with_member("b")
    assert plan(team, relation("o-a", "a-b", "o-b"), upn_of) == []


# -- calls -----------------------------------------------------------------------------------


def test_live_call_with_an_incompatible_pair_ends() -> None:
    call = Call.create("k", ["a", "b", "c"], meeting_id="m").sharing_by("b")
    assert plan(call, relation("a-z"), upn_of) == []
    actions = plan(call, relation("c-a", "b-c"), upn_of)
    assert len(actions) == 1
    action = actions[0]
    assert action.kind is ActionKind.CALL_ENDED
    assert action.rule is Rule.LIVE_CALL
    assert action.user_id is None
    assert action.pairs == (("a", "c"), ("b", "c"))
    assert action.pair == ("a", "c")
    assert "a and c; b and c" in action.reason
    after = apply_plan(call, actions)
    assert not after.live
    assert after.sharing is None
    assert after.participant_ids() == ("a", "b", "c")
    # An ended call: nothing.
    assert plan(after, relation("a-c"), upn_of) == []


# -- actions, apply_plan, reconcile_all ------------------------------------------------------


def test_action_as_dict_and_describe() -> None:
    chat = group_chat(("a", 0), ("b", 1))
    (action,) = plan(chat, relation("a-b"), upn_of)
    assert action.as_dict() == {
        "kind": "chat_participant_removed",
        "object_kind": "chat",
        "object_id": "c",
        "user_id": "b",
        "rule": "most_incompatibilities",
        "reason": action.reason,
        "pair": ["b", "a"],
        "pairs": [["b", "a"]],
    }
    assert action.reason == action.describe(str)
    described = action.describe(upn_of)
    assert described.startswith("b@contoso.com has the most incompatibilities")
    assert "keeping read-only history" in described


def test_apply_plan_refuses_actions_that_do_not_fit() -> None:
    chat = group_chat(("a", 0), ("b", 1))
    actions = plan(chat, relation("a-b"), upn_of)
    other = group_chat(("a", 0), ("b", 1)).with_participant("c")
    with pytest.raises(InvalidInput, match="applied to"):
        apply_plan(Chat("other", ChatKind.GROUP), actions)
    assert apply_plan(other, actions).removed == ("b",)  # same id: fine
    team = Team.create("c", "T", ["a"])
    with pytest.raises(InvalidInput, match="applied to team"):
        apply_plan(team, actions)
    with pytest.raises(InvalidInput, match="not a participant"):
        apply_plan(chat, actions * 2)

    def action(kind: ActionKind, obj: CollabObject, user: str | None) -> Action:
        rule = Rule.LIVE_CALL if user is None else Rule.MOST_INCOMPATIBILITIES
        return Action.make(kind, obj, user, rule, [(user or "x", "y")])

    meeting = Meeting.create("m", "S", "org", ["i"])
    with pytest.raises(InvalidInput, match="keeps its organizer"):
        apply_plan(meeting, [action(ActionKind.MEETING_ORGANIZER_REMOVED, meeting, "org")])
    with pytest.raises(InvalidInput, match="does not apply to a meeting"):
        apply_plan(meeting, [action(ActionKind.CALL_ENDED, meeting, None)])
    with pytest.raises(InvalidInput, match="needs a user_id"):
        apply_plan(meeting, [action(ActionKind.MEETING_INVITEE_REMOVED, meeting, None)])
    with pytest.raises(InvalidInput, match="names the user removed"):
        Action.make(
            ActionKind.MEETING_INVITEE_REMOVED, meeting, None, Rule.EVERY_OWNER, [("a", "b")]
        )
    with pytest.raises(InvalidInput, match="needs at least one pair"):
        Action.make(ActionKind.CALL_ENDED, meeting, None, Rule.LIVE_CALL, [])
    with pytest.raises(InvalidInput, match="is an owner"):
        apply_plan(team, [action(ActionKind.TEAM_MEMBER_REMOVED, team, "a")])
    grown = team.with_member("b")
    with pytest.raises(InvalidInput, match="is not an owner"):
        apply_plan(grown, [action(ActionKind.TEAM_OWNER_REMOVED, grown, "b")])
    assert apply_plan(grown, [action(ActionKind.TEAM_OWNER_REMOVED, grown, "a")]).owners == ()
    call = Call.create("k", ["a"]).ended()
    with pytest.raises(InvalidInput, match="has ended"):
        apply_plan(call, [action(ActionKind.CALL_ENDED, call, None)])
    assert apply_plan(call, []) is call


def test_reconcile_all_changed_only_in_order() -> None:
    compatible = relation("a-b")
    objects: list[CollabObject] = [
        Call.create("k1", ["a", "b"]),
        Team.create("t-open", "T", ["a"], TeamMode.OPEN).with_member("b"),
        Chat.create("c1", ChatKind.ONE_ON_ONE, ["a", "b"]),
        Chat.create("c2", ChatKind.ONE_ON_ONE, ["a", "c"]),
        Meeting.create("m1", "S", "a", ["b", "c"]),
        Team.create("t-impl", "T", ["a"]).with_member("b"),
        Call.create("k2", ["a", "b"]).ended(),
    ]
    changed, actions = reconcile_all(objects, compatible, upn_of)
    assert [(o.object_kind, o.id) for o in changed] == [
        ("call", "k1"),
        ("chat", "c1"),
        ("meeting", "m1"),
        ("team", "t-impl"),
    ]
    assert [(a.object_id, a.kind.value, a.user_id) for a in actions] == [
        ("k1", "call_ended", None),
        ("c1", "chat_read_only", None),
        ("m1", "meeting_invitee_removed", "b"),
        ("t-impl", "team_member_removed", "b"),
    ]
    # Deterministic, and a second pass has nothing left to do.
    assert reconcile_all(objects, compatible, upn_of) == (changed, actions)
    assert reconcile_all(changed, compatible, upn_of) == ([], [])


# -- property: the greedy rule against a brute-force reference -------------------------------

Entrant = tuple[str, int, bool]


def reference_removals(
    entrants: Sequence[Entrant], bad: set[frozenset[str]], upns: dict[str, str]
) -> list[str]:
    """§8 read literally: recount everything at every step, sort, take the first."""
    remaining = [uid for uid, _, _ in entrants]
    seq = {uid: s for uid, s, _ in entrants}
    protected = {uid: p for uid, _, p in entrants}
    order: list[str] = []

    def count(u: str) -> int:
        return sum(1 for v in remaining if v != u and frozenset((u, v)) in bad)

    while True:
        offenders = [u for u in remaining if count(u) > 0]
        if not offenders:
            return order
        unprotected = [u for u in offenders if not protected[u]]
        pool = unprotected or offenders
        ranked = sorted(pool, key=lambda u: (count(u), seq[u], upns[u].casefold()))
        order.append(ranked[-1])
        remaining.remove(ranked[-1])


NAMES = ["amy", "Bob", "carl", "Dana", "eve", "Fay", "gus", "HAL", "ivy"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, list[Entrant], set[frozenset[str]], dict[str, str]]:
    kind = draw(st.sampled_from(["chat", "meeting", "team"]))
    n = draw(st.integers(1, 7))
    ids = [f"u{i}" for i in range(n)]
    names = draw(st.permutations(NAMES))[:n]
    upns = {uid: f"{name}@contoso.com" for uid, name in zip(ids, names, strict=True)}
    seqs = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    if kind == "team":
        protected = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    elif kind == "meeting":
        protected = [i == 0 for i in range(n)]
        seqs[0] = -1
    else:
        protected = [False] * n
    all_pairs = [frozenset(p) for p in itertools.combinations(ids, 2)]
    flags = draw(st.lists(st.booleans(), min_size=len(all_pairs), max_size=len(all_pairs)))
    bad = {p for p, flag in zip(all_pairs, flags, strict=True) if flag}
    entrants = list(zip(ids, seqs, protected, strict=True))
    return kind, draw(st.permutations(entrants)), bad, upns


def build(kind: str, entrants: Sequence[Entrant]) -> Team | Chat | Meeting:
    next_seq = max((s for _, s, _ in entrants), default=0) + 1
    if kind == "meeting":
        organizer = next(uid for uid, _, p in entrants if p)
        invitees = tuple(Member(uid, s) for uid, s, p in entrants if not p)
        return Meeting("m", "S", organizer, invitees, (organizer,), next_seq)
    members = tuple(Member(uid, s) for uid, s, _ in entrants)
    if kind == "team":
        owners = tuple(uid for uid, _, p in entrants if p)
        return Team("t", "T", TeamMode.IMPLICIT, owners, members, next_seq)
    return Chat("c", ChatKind.GROUP, members, next_seq=next_seq)


def pairs_ok(ids: Sequence[str], compatible: Callable[[str, str], bool]) -> bool:
    return all(compatible(a, b) for a, b in itertools.combinations(ids, 2))


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_greedy_matches_reference(
    scenario: tuple[str, list[Entrant], set[frozenset[str]], dict[str, str]],
) -> None:
    kind, entrants, bad, upns = scenario
    compatible: Compatible = lambda u, v: frozenset((u, v)) not in bad  # noqa: E731
    obj = build(kind, entrants)
    actions = plan(obj, compatible, upns.__getitem__)
    expected = reference_removals(entrants, bad, upns)
    assert removed(actions) == expected
    # Independent of the participants' order.
    steps = removal_order(sorted(entrants), compatible, upns.__getitem__)
    assert [s.user_id for s in steps] == expected
    after = apply_plan(obj, actions)
    # Every remaining pair is compatible; a second plan has nothing to do.
    assert pairs_ok(after.participant_ids(), compatible)
    assert plan(after, compatible, upns.__getitem__) == []
    assert set(after.participant_ids()) == {uid for uid, _, _ in entrants} - set(expected)
    # Protected users go only when no unprotected one is still incompatible.
    protected = {uid for uid, _, p in entrants if p}
    remaining = [uid for uid, _, _ in entrants]
    for action in actions:
        assert action.user_id is not None
        assert action.pairs
        assert all(frozenset(p) in bad and p[0] == action.user_id for p in action.pairs)
        if action.user_id in protected:
            assert action.kind is ActionKind.TEAM_OWNER_REMOVED  # never an organizer
            assert action.rule is Rule.PROTECTED_LAST
            for u in remaining:
                if u not in protected:
                    assert all(compatible(u, v) for v in remaining)
        else:
            assert action.rule is Rule.MOST_INCOMPATIBILITIES
        remaining.remove(action.user_id)
    if kind == "chat":
        assert isinstance(after, Chat)
        assert after.removed == tuple(expected)
    if kind == "team":
        assert isinstance(after, Team)
        assert set(after.owners) == protected - set(expected)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.booleans())
def test_owner_moderated_and_call_match_reference(
    scenario: tuple[str, list[Entrant], set[frozenset[str]], dict[str, str]], live: bool
) -> None:
    _, entrants, bad, upns = scenario
    compatible: Compatible = lambda u, v: frozenset((u, v)) not in bad  # noqa: E731
    ids = [uid for uid, _, _ in entrants]
    owners = [uid for uid, _, p in entrants if p]
    members = tuple(Member(uid, max(s, 0)) for uid, s, _ in entrants)
    team = Team("t", "T", TeamMode.OWNER_MODERATED, tuple(owners), members, 4)
    expected = [
        u
        for u in ids
        if owners and u not in owners and all(frozenset((u, o)) in bad for o in owners)
    ]
    assert removed(plan(team, compatible, upns.__getitem__)) == expected
    open_team = Team("t", "T", TeamMode.OPEN, tuple(owners), members, 4)
    assert plan(open_team, compatible, upns.__getitem__) == []
    call = Call("k", CallKind.CALL, members, live=live, next_seq=4)
    actions = plan(call, compatible, upns.__getitem__)
    clash = [(a, b) for a, b in itertools.combinations(ids, 2) if frozenset((a, b)) in bad]
    if live and clash:
        assert [a.kind for a in actions] == [ActionKind.CALL_ENDED]
        assert list(actions[0].pairs) == clash
        assert not apply_plan(call, actions).live
    else:
        assert actions == []
