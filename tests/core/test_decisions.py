"""Compatibility of two users (semantics §6) and the checks of §7, on hand-built tenants.

``Tenant.verdict`` (see ``core_builders``) cross-checks every answer with
``compatible_many`` and the reference model, so each scenario tests those too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from core_builders import Tenant, allow, block, make_config, make_directory, tenant, upn

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.contract import Action, parse_action
from infobarrier.core.decisions import compatibility, compatible_many, decide, pairs_for
from infobarrier.core.errors import InvalidInput

ALL_MODES = list(Mode)
NON_MULTI = [Mode.LEGACY, Mode.SINGLE_SEGMENT]
NON_LEGACY = [Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT]

SEGMENTS = {
    "A": "Department -eq 'A'",
    "B": "Department -eq 'B'",
    "C": "Department -eq 'C'",
}


def abc(mode: Mode = Mode.SINGLE_SEGMENT, policies=None, **extra_users) -> Tenant:  # type: ignore[no-untyped-def]
    """Users a1, a2 in A, b1 in B, c1 in C, n1 and n2 in no segment, plus ``extra_users``."""
    users = {
        "a1": {"department": "A"},
        "a2": {"department": "a"},
        "b1": {"department": "B"},
        "c1": {"department": "C"},
        "n1": {},
        "n2": {"department": "Nowhere"},
        **extra_users,
    }
    return tenant(users, mode=mode, segments=SEGMENTS, policies=policies)


def assert_all_pairs_agree(t: Tenant) -> None:
    """``compatible_many`` over every pair equals ``compatibility`` (and the reference)."""
    n = len(t.epoch)
    us, vs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    fast = compatible_many(t.epoch, us.ravel(), vs.ravel()).reshape(n, n)
    names = [u.split("@")[0] for u in t.epoch.upns]
    for i, j in itertools.product(range(n), repeat=2):
        assert bool(fast[i, j]) == compatibility(t.epoch, i, j).allowed, (names[i], names[j])
        t.verdict(names[i], names[j])


# -- segment membership -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_membership_follows_filters(mode: Mode) -> None:
    t = abc(mode)
    assert t.segments("a1") == ("A",)
    assert t.segments("a2") == ("A",)
    assert t.segments("b1") == ("B",)
    assert t.segments("n1") == ()
    assert t.segments("n2") == ()
    assert t.epoch.segment_counts() == [2, 1, 1]
    assert t.epoch.conflicts() == []


# -- same user, disabled --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"enabled": False},
        {"guest": True},
        {"hidden": True},
        {"department": "A", "company": "conflict"},
    ],
)
def test_same_user_is_always_compatible(mode: Mode, extra: dict[str, object]) -> None:
    t = tenant(
        {"x": extra, "y": {}},
        mode=mode,
        segments={"A": "Department -eq 'A'", "X": "Company -eq 'conflict'"},
        policies={"A": allow("X")},
    )
    verdict = t.verdict("x", "x")
    assert verdict.allowed
    assert verdict.code == "same_user"
    assert verdict.pair == (upn("x"), upn("x"))


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("other", ["a2", "b1", "n1"])
def test_disabled_user_is_incompatible_with_everyone(mode: Mode, other: str) -> None:
    t = abc(mode, zz={"department": "A", "enabled": False})
    assert not t.allowed("zz", other)
    for verdict in (t.verdict("zz", other), t.verdict(other, "zz")):
        assert verdict.code == "account_disabled"
        assert upn("zz") in verdict.reason
    assert t.allowed("a1", other)


def test_disabled_wins_over_other_reasons() -> None:
    t = abc(Mode.LEGACY, zz={"enabled": False, "guest": True})
    assert t.verdict("zz", "n1").code == "account_disabled"


# -- IBPolicyConflict (fail closed) -------------------------------------------------------------


CONFLICT_SEGMENTS = {
    "Sales": "Department -eq 'Sales'",
    "Research": "Company -eq 'R'",
    "Other": "Department -eq 'Other'",
}


@pytest.mark.parametrize("mode", NON_MULTI)
def test_conflict_fails_closed_in_single_segment_modes(mode: Mode) -> None:
    t = tenant(
        {
            "x": {"department": "Sales", "company": "R"},
            "s": {"department": "Sales"},
            "r": {"company": "R"},
            "o": {"department": "Other"},
            "n": {},
            "x2": {"department": "Sales", "company": "R"},
        },
        mode=mode,
        segments=CONFLICT_SEGMENTS,
    )
    x = t.ix("x")
    assert t.epoch.in_conflict(x)
    assert t.epoch.segments_of(x) == ("Sales", "Research")
    assert sorted(t.epoch.conflicts()) == sorted([x, t.ix("x2")])
    for other in ("s", "r", "o", "n", "x2"):
        assert not t.allowed("x", other)
        verdict = t.verdict(other, "x")
        assert verdict.code == "policy_conflict"
        # The reason names the user in conflict (x2 is in conflict too, and comes first).
        assert verdict.reason.startswith(upn("x2" if other == "x2" else "x") + " ")
        assert "'Sales'" in verdict.reason
        assert "'Research'" in verdict.reason
    assert t.allowed("s", "r")
    assert t.allowed("s", "n")
    assert_all_pairs_agree(t)


def test_multisegment_allows_up_to_ten_segments_then_conflicts() -> None:
    segments = {f"S{i}": f"ExtensionAttribute{i} -eq 'y'" for i in range(1, 12)}
    users = {
        "ten": {f"extensionattribute{i}": "y" for i in range(1, 11)},
        "eleven": {f"extensionattribute{i}": "y" for i in range(1, 12)},
        "two": {"extensionattribute1": "y", "extensionattribute11": "y"},
        "none": {},
    }
    t = tenant(users, mode=Mode.MULTI_SEGMENT, segments=segments)
    assert len(t.segments("ten")) == 10
    assert not t.epoch.in_conflict(t.ix("ten"))
    assert t.epoch.in_conflict(t.ix("eleven"))
    assert t.segments("eleven") == tuple(f"S{i}" for i in range(1, 12))
    assert t.allowed("ten", "two")
    assert t.allowed("ten", "none")
    for other in ("ten", "two", "none"):
        assert not t.allowed("eleven", other)
        assert t.verdict("eleven", other).code == "policy_conflict"
    assert_all_pairs_agree(t)


def test_two_segments_is_no_conflict_in_multisegment() -> None:
    t = tenant(
        {"x": {"department": "Sales", "company": "R"}, "n": {}},
        mode=Mode.MULTI_SEGMENT,
        segments=CONFLICT_SEGMENTS,
    )
    assert not t.epoch.in_conflict(t.ix("x"))
    assert t.allowed("x", "n")


# -- Legacy: hidden users -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "hidden"),
    [
        ({"hidden": True}, True),
        ({"guest": True}, True),
        ({"guest": True, "hidden": None}, True),
        ({"guest": True, "hidden": False}, False),
        ({"hidden": False}, False),
        ({}, False),
        ({"department": "A", "hidden": True}, True),
        ({"department": "A", "guest": True}, True),
    ],
)
@pytest.mark.parametrize("mode", ALL_MODES)
def test_hidden_users_only_matter_in_legacy(
    mode: Mode, options: dict[str, object], hidden: bool
) -> None:
    t = abc(mode, h=options)
    blocked = mode is Mode.LEGACY and hidden
    for other in ("a1", "n1"):
        assert t.allowed("h", other) is not blocked
        if blocked:
            verdict = t.verdict(other, "h")
            assert verdict.code == "hidden"
            assert upn("h") in verdict.reason


# -- unsegmented users ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_neither_segmented_is_compatible(mode: Mode) -> None:
    t = abc(mode, policies={"A": allow("A")})
    verdict = t.verdict("n1", "n2")
    assert verdict.allowed
    assert verdict.code == "unsegmented"


def test_nobody_is_segmented_without_segments() -> None:
    t = tenant({"x": {"department": "A"}, "y": {}}, mode=Mode.LEGACY)
    assert t.segments("x") == ()
    assert t.verdict("x", "y").code == "unsegmented"


@pytest.mark.parametrize("mode", NON_LEGACY)
def test_one_segmented_with_allow_list_is_open_outside_legacy(mode: Mode) -> None:
    t = abc(mode, policies={"A": allow("A")})
    for a, b in (("a1", "n1"), ("n1", "a1")):
        verdict = t.verdict(a, b)
        assert verdict.allowed
        assert verdict.code == "one_unsegmented"


def test_one_segmented_with_allow_list_is_closed_in_legacy() -> None:
    t = abc(Mode.LEGACY, policies={"A": allow("A", "B")})
    for a, b in (("a1", "n1"), ("n2", "a2")):
        verdict = t.verdict(a, b)
        assert not verdict.allowed
        assert verdict.code == "blocked_unsegmented"
        assert verdict.policy == "P-A"
        assert verdict.segment == "A"
        assert "'P-A'" in verdict.reason
    # B has no policy, so it stays open; A's allow list still lets a1 reach b1.
    assert t.allowed("b1", "n1")
    assert t.allowed("a1", "b1")
    assert not t.allowed("a1", "c1")


@pytest.mark.parametrize(
    "policy",
    [
        block("B"),
        allow("A", state=PolicyState.INACTIVE),
        None,
    ],
)
def test_one_segmented_is_open_in_legacy_for_block_lists_inactive_or_no_policy(
    policy: object,
) -> None:
    t = abc(Mode.LEGACY, policies={"A": policy} if policy else None)
    verdict = t.verdict("a1", "n1")
    assert verdict.allowed
    assert verdict.code == "one_unsegmented"


# -- block and allow lists, two-way ---------------------------------------------------------


@pytest.mark.parametrize("mode", NON_MULTI)
def test_block_list_is_enforced_both_ways(mode: Mode) -> None:
    t = abc(mode, policies={"A": block("B")})
    for a, b in (("a1", "b1"), ("b1", "a1"), ("a2", "b1"), ("b1", "a2")):
        verdict = t.verdict(a, b)
        assert not verdict.allowed
        assert verdict.code == "blocked_by_policy"
        assert verdict.policy == "P-A"
        assert verdict.segment == "A"
        assert "'P-A'" in verdict.reason
        assert "'B'" in verdict.reason
    assert t.allowed("a1", "a2")
    assert t.allowed("a1", "c1")
    assert t.allowed("b1", "c1")
    assert t.allowed("a1", "n1")
    assert t.verdict("a1", "a2").code == "permitted"
    assert_all_pairs_agree(t)


@pytest.mark.parametrize("mode", NON_MULTI)
def test_block_list_of_own_segment_cuts_members_off(mode: Mode) -> None:
    t = abc(mode, policies={"A": block("A")})
    assert not t.allowed("a1", "a2")
    assert t.allowed("a1", "b1")
    assert t.verdict("a1", "a2").policy == "P-A"


@pytest.mark.parametrize("mode", ALL_MODES)
def test_allow_list_is_enforced_both_ways(mode: Mode) -> None:
    t = abc(mode, policies={"A": allow("A", "C")})
    for a, b in (("a1", "b1"), ("b1", "a1")):
        verdict = t.verdict(a, b)
        assert not verdict.allowed
        assert verdict.policy == "P-A"
        assert verdict.segment == "A"
        assert "'B'" in verdict.reason
    assert t.allowed("a1", "c1")
    assert t.allowed("a1", "a2")
    assert t.allowed("b1", "c1")
    assert_all_pairs_agree(t)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_the_refusing_side_is_named_when_only_the_other_side_refuses(mode: Mode) -> None:
    # A lets C in, but C's own allow list does not include A.
    t = abc(mode, policies={"A": allow("A", "C"), "C": allow("C")})
    for a, b in (("a1", "c1"), ("c1", "a1")):
        verdict = t.verdict(a, b)
        assert not verdict.allowed
        assert verdict.policy == "P-C"
        assert verdict.segment == "C"
        assert "'A'" in verdict.reason


@pytest.mark.parametrize("mode", NON_MULTI)
def test_mutual_blocks_name_a_refusing_policy(mode: Mode) -> None:
    t = abc(mode, policies={"A": block("B"), "B": block("A")})
    forward, backward = t.verdict("a1", "b1"), t.verdict("b1", "a1")
    assert not forward.allowed
    assert not backward.allowed
    assert {forward.policy, backward.policy} <= {"P-A", "P-B"}
    assert (forward.policy, forward.segment) in {("P-A", "A"), ("P-B", "B")}


@pytest.mark.parametrize("mode", ALL_MODES)
def test_allow_list_omitting_itself_cuts_members_off_from_each_other(mode: Mode) -> None:
    t = abc(mode, policies={"A": allow("B")})
    verdict = t.verdict("a1", "a2")
    assert not verdict.allowed
    assert verdict.policy == "P-A"
    assert verdict.segment == "A"
    assert t.allowed("a1", "b1")
    assert not t.allowed("a1", "c1")
    assert t.config.warnings()
    assert_all_pairs_agree(t)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_inactive_policies_are_ignored_by_compile(mode: Mode) -> None:
    kind = allow if mode is Mode.MULTI_SEGMENT else block
    t = abc(mode, policies={"A": kind("C", state=PolicyState.INACTIVE)})
    assert t.epoch.config.policies == ()
    assert t.epoch.policy_of(0) is None
    assert t.allowed("a1", "b1")
    assert t.verdict("a1", "b1").code == "permitted"
    assert_all_pairs_agree(t)


def test_epoch_keeps_its_own_copy_of_the_config() -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B", state=PolicyState.INACTIVE)})
    activated = t.config.set_policy("P-A", state=PolicyState.ACTIVE)
    assert t.allowed("a1", "b1")
    assert not compatibility(compile_epoch(t.directory, activated), t.ix("a1"), t.ix("b1")).allowed
    assert t.epoch.config.policies == ()
    assert t.allowed("a1", "b1")


# -- MultiSegment: the any-pair rule -----------------------------------------------------------


MULTI_SEGMENTS = {
    "A": "Department -eq 'A'",
    "B": "Company -eq 'B'",
    "C": "Department -eq 'C'",
    "D": "Company -eq 'D'",
}


def multi(policies: dict[str, object]) -> Tenant:
    return tenant(
        {
            "ab": {"department": "A", "company": "B"},
            "c": {"department": "C"},
            "cd": {"department": "C", "company": "D"},
            "a": {"department": "A"},
            "n": {},
        },
        mode=Mode.MULTI_SEGMENT,
        segments=MULTI_SEGMENTS,
        policies=policies,  # type: ignore[arg-type]
    )


def test_multisegment_some_pair_permitted_both_ways_suffices() -> None:
    t = multi({"A": allow("A"), "B": allow("B", "C"), "C": allow("C", "B")})
    assert t.segments("ab") == ("A", "B")
    assert t.allowed("ab", "c")
    verdict = t.verdict("ab", "c")
    assert verdict.code == "permitted"
    assert "'B'" in verdict.reason
    assert "'C'" in verdict.reason
    assert not t.allowed("a", "c")
    assert t.allowed("ab", "a")
    assert_all_pairs_agree(t)


def test_multisegment_no_pair_permitted_is_refused() -> None:
    t = multi({"A": allow("A"), "B": allow("B"), "C": allow("C")})
    verdict = t.verdict("ab", "c")
    assert not verdict.allowed
    assert verdict.code == "blocked_by_policy"
    assert "no segment of one user" in verdict.reason
    assert verdict.policy in {"P-A", "P-B", "P-C"}
    assert not t.allowed("ab", "cd")
    assert_all_pairs_agree(t)


def test_multisegment_one_way_permission_is_not_enough() -> None:
    # B lets C in, but C lets only D in: no pair is permitted both ways for ab and c.
    t = multi({"A": allow("A"), "B": allow("B", "C"), "C": allow("C", "D")})
    assert not t.allowed("ab", "c")
    # cd is also in D (no policy): D permits B, and B permits... not D.
    assert not t.allowed("ab", "cd")
    t2 = multi({"A": allow("A"), "B": allow("B", "C", "D"), "C": allow("C", "D")})
    assert t2.allowed("ab", "cd")
    assert not t2.allowed("ab", "c")
    assert_all_pairs_agree(t2)


def test_multisegment_unsegmented_is_always_open() -> None:
    t = multi({"A": allow("A"), "B": allow("B")})
    assert t.allowed("ab", "n")
    assert t.verdict("ab", "n").code == "one_unsegmented"


# -- §7: pairs and checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "others", "pairs"),
    [
        (Action.SEARCH, [1, 2, 3], [(0, 1), (0, 2), (0, 3)]),
        (Action.SHARE_SCREEN, [3, 1, 2], [(0, 3), (0, 1), (0, 2)]),
        (Action.ADD_TEAM_MEMBER, [1, 2], [(0, 1), (0, 2)]),
        (Action.CHAT, [2], [(0, 2)]),
        (Action.SHARE_FILE, [3], [(0, 3)]),
        (Action.GROUP_CHAT, [1], [(0, 1)]),
        (Action.GROUP_CHAT, [1, 2], [(0, 1), (0, 2), (1, 2)]),
        (
            Action.MEETING_INVITE,
            [1, 2, 3],
            [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)],
        ),
        (Action.CALL, [3, 2, 1], [(0, 3), (0, 2), (0, 1), (3, 2), (3, 1), (2, 1)]),
    ],
)
def test_pairs_for_orders(action: Action, others: list[int], pairs: list[tuple[int, int]]) -> None:
    assert pairs_for(action, 0, others) == pairs


@pytest.mark.parametrize("action", [Action.CHAT, Action.SHARE_FILE])
@pytest.mark.parametrize("others", [[], [1, 2], [1, 2, 3]])
def test_chat_and_share_file_take_exactly_one(action: Action, others: list[int]) -> None:
    with pytest.raises(InvalidInput):
        pairs_for(action, 0, others)


@pytest.mark.parametrize("action", list(Action))
def test_bad_input_is_never_a_yes(action: Action) -> None:
    t = abc(Mode.SINGLE_SEGMENT)
    a1, a2, n1 = t.ix("a1"), t.ix("a2"), t.ix("n1")
    single = action in (Action.CHAT, Action.SHARE_FILE)
    bad = [[a1], []] if single else [[a1], [a2, a1], [], [a2, a2], [a2, n1, a2]]
    for others in bad:
        for restriction in (True, False):
            with pytest.raises(InvalidInput):
                decide(t.epoch, action, a1, others, people_search_restriction=restriction)


@pytest.mark.parametrize("action", list(Action))
def test_index_beyond_the_epoch_is_an_error(action: Action) -> None:
    t = abc(Mode.SINGLE_SEGMENT)
    with pytest.raises((InvalidInput, IndexError)):
        decide(t.epoch, action, t.ix("a1"), [len(t.epoch)])


def test_search_with_people_search_restriction_disabled_is_always_yes() -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B", "C")})
    a1, b1, c1 = t.ix("a1"), t.ix("b1"), t.ix("c1")
    assert not decide(t.epoch, Action.SEARCH, a1, [b1, c1]).allowed
    verdict = decide(t.epoch, Action.SEARCH, a1, [b1, c1], people_search_restriction=False)
    assert verdict.allowed
    assert verdict.code == "search_unrestricted"
    # Every other action is unchanged.
    for action in (Action.GROUP_CHAT, Action.CALL, Action.SHARE_SCREEN, Action.MEETING_INVITE):
        assert not decide(t.epoch, action, a1, [b1], people_search_restriction=False).allowed
    assert not decide(t.epoch, Action.CHAT, a1, [b1], people_search_restriction=False).allowed


@pytest.mark.parametrize(
    ("action", "sender", "others", "pair"),
    [
        # a1 blocks b1 (A blocks B); c1 and n1 are fine with everyone
        (Action.GROUP_CHAT, "c1", ["a1", "n1", "b1"], ("a1", "b1")),
        (Action.MEETING_INVITE, "c1", ["b1", "a1"], ("b1", "a1")),
        (Action.CALL, "n1", ["c1", "b1", "a2", "a1"], ("b1", "a2")),
        (Action.GROUP_CHAT, "a1", ["c1", "b1"], ("a1", "b1")),
        (Action.SEARCH, "a1", ["c1", "b1", "n1"], ("a1", "b1")),
        (Action.SHARE_SCREEN, "b1", ["n1", "a2", "a1"], ("b1", "a2")),
        (Action.ADD_TEAM_MEMBER, "b1", ["c1", "a1"], ("b1", "a1")),
        (Action.CHAT, "b1", ["a1"], ("b1", "a1")),
        (Action.SHARE_FILE, "a2", ["b1"], ("a2", "b1")),
    ],
)
def test_refusal_names_the_first_failing_pair(
    action: Action, sender: str, others: list[str], pair: tuple[str, str]
) -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B")})
    verdict = decide(t.epoch, action, t.ix(sender), [t.ix(o) for o in others])
    assert not verdict.allowed
    assert verdict.pair == (upn(pair[0]), upn(pair[1]))
    assert verdict.code == "blocked_by_policy"
    assert verdict.policy == "P-A"


def test_search_and_share_screen_do_not_check_the_others_among_themselves() -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B")})
    c1, a1, b1 = t.ix("c1"), t.ix("a1"), t.ix("b1")
    for action in (Action.SEARCH, Action.SHARE_SCREEN, Action.ADD_TEAM_MEMBER):
        assert decide(t.epoch, action, c1, [a1, b1]).allowed
    for action in (Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL):
        assert not decide(t.epoch, action, c1, [a1, b1]).allowed


def test_allowed_checks_explain_themselves() -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B")})
    a1, a2, c1 = t.ix("a1"), t.ix("a2"), t.ix("c1")
    one = decide(t.epoch, Action.CHAT, a1, [a2])
    assert one.allowed
    assert one.pair == (upn("a1"), upn("a2"))
    assert one.code == "permitted"
    many = decide(t.epoch, Action.GROUP_CHAT, a1, [a2, c1])
    assert many.allowed
    assert many.code == "all_compatible"
    assert "3 pairs" in many.reason


def test_disabled_or_conflicting_participant_refuses_a_group_check() -> None:
    t = abc(Mode.SINGLE_SEGMENT, off={"enabled": False})
    verdict = decide(t.epoch, Action.CALL, t.ix("a1"), [t.ix("n1"), t.ix("off")])
    assert not verdict.allowed
    assert verdict.code == "account_disabled"
    assert verdict.pair == (upn("a1"), upn("off"))


@pytest.mark.parametrize(
    ("text", "action"),
    [("chat", Action.CHAT), (" Group-Chat ", Action.GROUP_CHAT), ("SHARE-FILE", Action.SHARE_FILE)],
)
def test_parse_action(text: str, action: Action) -> None:
    assert parse_action(text) is action


@pytest.mark.parametrize("text", ["", "email", "group chat", "share_file"])
def test_parse_action_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_action(text)


# -- compatible_many agrees with compatibility on all pairs -------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize(
    "policies",
    [
        None,
        {"A": allow("A")},
        {"A": allow("B"), "B": allow("A", "B", "C")},
        {"A": allow("A", "C"), "C": allow("C", "B"), "B": allow("B", state=PolicyState.INACTIVE)},
    ],
)
def test_compatible_many_agrees_with_compatibility(mode: Mode, policies: object) -> None:
    t = abc(
        mode,
        policies,  # type: ignore[arg-type]
        g={"guest": True, "department": "B"},
        h={"hidden": True},
        off={"enabled": False, "department": "C"},
        x={"department": "A", "company": "X"},
    )
    assert_all_pairs_agree(t)


def test_compatible_many_agrees_with_conflicts_in_single_segment() -> None:
    directory = make_directory(
        {
            "x": {"department": "A", "company": "B"},
            "a": {"department": "A"},
            "b": {"company": "B"},
            "n": {},
        }
    )
    config = make_config(
        Mode.SINGLE_SEGMENT,
        {"A": "Department -eq 'A'", "B": "Company -eq 'B'"},
        {"A": block("B")},
    )
    t = Tenant(directory, config, compile_epoch(directory, config))
    assert t.epoch.in_conflict(t.ix("x"))
    assert_all_pairs_agree(t)


def test_compatible_many_same_index_is_true_even_when_unusable() -> None:
    t = abc(Mode.LEGACY, off={"enabled": False}, g={"guest": True})
    idx = np.array([t.ix("off"), t.ix("g"), t.ix("a1")])
    assert compatible_many(t.epoch, idx, idx).tolist() == [True, True, True]


def test_verdict_as_dict_has_the_documented_fields() -> None:
    t = abc(Mode.SINGLE_SEGMENT, policies={"A": block("B")})
    refused = t.verdict("a1", "b1").as_dict()
    assert refused == {
        "allowed": False,
        "reason": refused["reason"],
        "code": "blocked_by_policy",
        "pair": [upn("a1"), upn("b1")],
        "policy": "P-A",
        "segment": "A",
    }
    assert isinstance(refused["reason"], str)
    assert refused["reason"]
    unrestricted = decide(
        t.epoch, Action.SEARCH, t.ix("a1"), [t.ix("b1")], people_search_restriction=False
    ).as_dict()
    assert unrestricted["allowed"] is True
    assert unrestricted["pair"] is None
