"""Rules of semantics §1, §3 and §4 enforced by ``BarrierConfig`` (every ``RuleViolation``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from infobarrier.core.barriers import (
    LIMITS,
    BarrierConfig,
    ListKind,
    Mode,
    PolicyState,
    Segment,
    check_tenant_name,
    parse_mode,
    parse_state,
    policy_warning,
)
from infobarrier.core.errors import FilterSyntaxError, NotFound, RuleViolation
from infobarrier.core.filters import parse_filter

F = "Department -eq 'x'"


def base(mode: Mode = Mode.SINGLE_SEGMENT) -> BarrierConfig:
    """Segments A, B, C; policy P-A (A blocks B, Inactive)."""
    config = BarrierConfig().set_mode(mode)
    for name in ("A", "B", "C"):
        config = config.new_segment(name, f"Department -eq '{name}'")
    if mode is Mode.MULTI_SEGMENT:
        return config.new_policy("P-A", "A", allowed=["A", "C"])
    return config.new_policy("P-A", "A", blocked=["B"])


def raises_rule(rule: str, edit: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        edit()
    assert caught.value.rule == rule
    assert f"[rule {rule}]" in str(caught.value)
    assert caught.value.code == "rule_violation"
    return caught.value


# -- tenant names (§2) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "0", "contoso", "contoso-bank", "a-", "9lives", "a" * 63, "x-1-y-2", "a--b"]
)
def test_valid_tenant_names(name: str) -> None:
    assert check_tenant_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-abc", "Contoso", "ABC", "a_b", "a b", "a.b", "a" * 64, "café", "abc\n", " abc", "a/b"],
)
def test_invalid_tenant_names(name: str) -> None:
    raises_rule("tenant.name", lambda: check_tenant_name(name))


# -- modes and states (§1, §4) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("Legacy", Mode.LEGACY),
        ("legacy", Mode.LEGACY),
        (" SINGLESEGMENT ", Mode.SINGLE_SEGMENT),
        ("SingleSegment", Mode.SINGLE_SEGMENT),
        ("multisegment", Mode.MULTI_SEGMENT),
    ],
)
def test_parse_mode(text: str, mode: Mode) -> None:
    assert parse_mode(text) is mode


@pytest.mark.parametrize("text", ["", "Single", "Multi Segment", "none", "MultiSegments"])
def test_parse_mode_rejects(text: str) -> None:
    raises_rule("mode.name", lambda: parse_mode(text))


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Active", PolicyState.ACTIVE),
        ("active", PolicyState.ACTIVE),
        (" ACTIVE ", PolicyState.ACTIVE),
        ("Inactive", PolicyState.INACTIVE),
        ("inactive", PolicyState.INACTIVE),
    ],
)
def test_parse_state(text: str, state: PolicyState) -> None:
    assert parse_state(text) is state


@pytest.mark.parametrize("text", ["", "On", "Enabled", "Activ", "In active"])
def test_parse_state_rejects(text: str) -> None:
    raises_rule("policy.state", lambda: parse_state(text))


def test_new_tenant_defaults() -> None:
    config = BarrierConfig()
    assert config.mode is Mode.SINGLE_SEGMENT
    assert config.people_search_restriction is True
    assert config.segments == ()
    assert config.policies == ()


@pytest.mark.parametrize("target", list(Mode))
def test_mode_can_change_while_empty(target: Mode) -> None:
    assert BarrierConfig().set_mode(target).mode is target


@pytest.mark.parametrize("target", [Mode.LEGACY, Mode.SINGLE_SEGMENT])
def test_never_away_from_multisegment(target: Mode) -> None:
    config = BarrierConfig().set_mode(Mode.MULTI_SEGMENT)
    raises_rule("mode.from_multisegment", lambda: config.set_mode(target))
    assert config.mode is Mode.MULTI_SEGMENT


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Mode.SINGLE_SEGMENT, Mode.LEGACY),
        (Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT),
        (Mode.LEGACY, Mode.SINGLE_SEGMENT),
        (Mode.LEGACY, Mode.MULTI_SEGMENT),
    ],
)
def test_mode_change_requires_no_segment_and_no_policy(start: Mode, target: Mode) -> None:
    with_segment = BarrierConfig().set_mode(start).new_segment("A", F)
    error = raises_rule("mode.requires_empty", lambda: with_segment.set_mode(target))
    assert "1 segment(s)" in str(error)
    with_policy = with_segment.new_policy("P", "A", blocked=["A"])
    raises_rule("mode.requires_empty", lambda: with_policy.set_mode(target))
    emptied = with_policy.remove_policy("P").remove_segment("A")
    assert emptied.set_mode(target).mode is target


@pytest.mark.parametrize("mode", list(Mode))
def test_setting_the_current_mode_is_a_no_op(mode: Mode) -> None:
    config = base(mode)
    assert config.set_mode(mode) is config
    assert BarrierConfig().set_mode(mode).set_mode(mode).mode is mode


def test_setting_current_mode_is_a_no_op_even_with_search_restriction_disabled() -> None:
    config = BarrierConfig().set_people_search_restriction(False)
    assert config.set_mode(Mode.SINGLE_SEGMENT) is config


@pytest.mark.parametrize("start", [Mode.SINGLE_SEGMENT])
def test_legacy_requires_search_restriction_enabled(start: Mode) -> None:
    config = BarrierConfig().set_mode(start).set_people_search_restriction(False)
    raises_rule("mode.legacy_search_restriction", lambda: config.set_mode(Mode.LEGACY))
    assert config.set_people_search_restriction(True).set_mode(Mode.LEGACY).mode is Mode.LEGACY
    assert config.set_mode(Mode.MULTI_SEGMENT).people_search_restriction is False


def test_search_restriction_cannot_be_disabled_in_legacy() -> None:
    config = BarrierConfig().set_mode(Mode.LEGACY)
    raises_rule("people_search.legacy", lambda: config.set_people_search_restriction(False))
    assert config.people_search_restriction is True
    assert config.set_people_search_restriction(True).people_search_restriction is True


@pytest.mark.parametrize("mode", [Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT])
def test_search_restriction_toggles_outside_legacy(mode: Mode) -> None:
    config = base(mode)
    off = config.set_people_search_restriction(False)
    assert off.people_search_restriction is False
    assert config.people_search_restriction is True
    assert off.set_people_search_restriction(True).people_search_restriction is True


# -- segments (§3) ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, " " + "y" * 65])
def test_segment_name_length(name: str) -> None:
    config = base()
    raises_rule("segment.name_length", lambda: config.new_segment(name, F))


@pytest.mark.parametrize("name", ["Z", "z" * 64, "  Padded  ", "Sales & Trading (EU)"])
def test_segment_name_lengths_accepted(name: str) -> None:
    config = base().new_segment(name, F)
    assert config.segments[-1].name == name.strip()
    assert config.segment(name.strip()).filter == F


@pytest.mark.parametrize("name", ["A", "a", " a ", "B", "c"])
def test_segment_name_unique_case_insensitively(name: str) -> None:
    config = base()
    raises_rule("segment.name_unique", lambda: config.new_segment(name, F))


def test_segment_limit_in_legacy_mode() -> None:
    limit = LIMITS[Mode.LEGACY].max_segments
    assert limit == 250
    config = BarrierConfig().set_mode(Mode.LEGACY)
    for i in range(limit):
        config = config.new_segment(f"S{i}", f"Department -eq 'd{i}'")
    assert len(config.segments) == limit
    error = raises_rule("segment.limit", lambda: config.new_segment("one-too-many", F))
    assert "250" in str(error)
    assert config.remove_segment("S0").new_segment("one-too-many", F).segments[-1].name == (
        "one-too-many"
    )


@pytest.mark.parametrize("mode", [Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT])
def test_segment_limit_in_other_modes(mode: Mode) -> None:
    limit = LIMITS[mode].max_segments
    assert limit == 5000
    expr = parse_filter(F)
    full = replace(
        BarrierConfig().set_mode(mode),
        segments=tuple(Segment(f"id{i}", f"S{i}", F, expr) for i in range(limit)),
    )
    raises_rule("segment.limit", lambda: full.new_segment("extra", F))
    almost = replace(full, segments=full.segments[:-1])
    assert len(almost.new_segment("extra", F).segments) == limit


def test_segments_per_user_limits() -> None:
    assert LIMITS[Mode.LEGACY].max_segments_per_user == 1
    assert LIMITS[Mode.SINGLE_SEGMENT].max_segments_per_user == 1
    assert LIMITS[Mode.MULTI_SEGMENT].max_segments_per_user == 10


@pytest.mark.parametrize(
    ("policy_segment", "kwargs", "target"),
    [
        ("A", {"blocked": ["C"]}, "A"),  # the assigned segment
        ("A", {"blocked": ["C"]}, "c"),  # a listed segment, named in another case
        ("C", {"allowed": ["B"], "state": PolicyState.ACTIVE}, "b"),
        ("C", {"allowed": ["B"], "state": PolicyState.INACTIVE}, "C"),
    ],
)
def test_referenced_segment_cannot_be_removed(
    policy_segment: str, kwargs: dict[str, object], target: str
) -> None:
    config = BarrierConfig()
    for name in ("A", "B", "C"):
        config = config.new_segment(name, F)
    config = config.new_policy("P", policy_segment, **kwargs)  # type: ignore[arg-type]
    error = raises_rule("segment.referenced", lambda: config.remove_segment(target))
    assert "'P'" in str(error)
    assert len(config.segments) == 3
    freed = config.remove_policy("P").remove_segment(target)
    assert [s.name.casefold() for s in freed.segments] == [
        n for n in ("a", "b", "c") if n != target.casefold()
    ]


def test_unreferenced_segment_is_removed() -> None:
    config = base()
    assert [s.name for s in config.remove_segment("c").segments] == ["A", "B"]
    with pytest.raises(NotFound):
        config.remove_segment("nope")


def test_set_segment_filter_changes_only_the_filter() -> None:
    config = base()
    changed = config.set_segment_filter("b", "Company -eq 'y'")
    old, new = config.segment("B"), changed.segment("B")
    assert (new.id, new.name) == (old.id, old.name)
    assert new.filter == "Company -eq 'y'"
    assert new.expr == parse_filter("Company -eq 'y'")
    assert old.filter == "Department -eq 'B'"
    assert changed.policies == config.policies


# -- policies (§4) -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "  ", "p" * 65])
def test_policy_name_length(name: str) -> None:
    config = base()
    raises_rule("policy.name_length", lambda: config.new_policy(name, "B", blocked=["C"]))


@pytest.mark.parametrize("name", ["P-A", "p-a", " P-a "])
def test_policy_name_unique_case_insensitively(name: str) -> None:
    config = base()
    raises_rule("policy.name_unique", lambda: config.new_policy(name, "B", blocked=["C"]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"allowed": ["C"], "blocked": ["C"]},
        {"allowed": ["A"], "blocked": []},
    ],
)
def test_policy_needs_exactly_one_list(kwargs: dict[str, object]) -> None:
    config = base()
    raises_rule("policy.one_list", lambda: config.new_policy("P-B", "B", **kwargs))  # type: ignore[arg-type]


def test_set_policy_refuses_both_lists() -> None:
    config = base()
    raises_rule("policy.one_list", lambda: config.set_policy("P-A", allowed=["A"], blocked=["B"]))


@pytest.mark.parametrize("kwargs", [{"allowed": []}, {"blocked": []}, {"blocked": ()}])
def test_policy_list_nonempty(kwargs: dict[str, object]) -> None:
    config = base()
    raises_rule("policy.list_nonempty", lambda: config.new_policy("P-B", "B", **kwargs))  # type: ignore[arg-type]
    raises_rule("policy.list_nonempty", lambda: config.set_policy("P-A", **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("segment", ["Z", "", "A B"])
def test_policy_segment_exists(segment: str) -> None:
    config = base()
    raises_rule("policy.segment_exists", lambda: config.new_policy("P-Z", segment, blocked=["C"]))


@pytest.mark.parametrize("listed", [["Z"], ["B", "Z"], ["C", "nope", "B"]])
def test_policy_listed_segment_exists(listed: list[str]) -> None:
    config = base()
    error = raises_rule(
        "policy.listed_segment_exists", lambda: config.new_policy("P-B", "B", blocked=listed)
    )
    missing = next(n for n in listed if config.find_segment(n) is None)
    assert repr(missing) in str(error)
    raises_rule("policy.listed_segment_exists", lambda: config.set_policy("P-A", blocked=listed))


@pytest.mark.parametrize("listed", [["C", "C"], ["C", "c"], [" C", "C "], ["A", "C", "a"]])
def test_policy_list_duplicate(listed: list[str]) -> None:
    config = base()
    raises_rule("policy.list_duplicate", lambda: config.new_policy("P-B", "B", allowed=listed))
    raises_rule("policy.list_duplicate", lambda: config.set_policy("P-A", allowed=listed))


@pytest.mark.parametrize("segment", ["A", "a", " A "])
@pytest.mark.parametrize("state", list(PolicyState))
def test_one_policy_per_segment(segment: str, state: PolicyState) -> None:
    config = base().set_policy("P-A", state=state)
    error = raises_rule(
        "policy.one_per_segment", lambda: config.new_policy("Other", segment, allowed=["C"])
    )
    assert "'P-A'" in str(error)


def test_multisegment_allows_only_allow_lists() -> None:
    config = base(Mode.MULTI_SEGMENT)
    raises_rule(
        "policy.multisegment_allow_only", lambda: config.new_policy("P-B", "B", blocked=["C"])
    )
    raises_rule("policy.multisegment_allow_only", lambda: config.set_policy("P-A", blocked=["B"]))
    assert config.new_policy("P-B", "B", allowed=["C"]).policy("P-B").kind is ListKind.ALLOW


@pytest.mark.parametrize("mode", [Mode.LEGACY, Mode.SINGLE_SEGMENT])
def test_block_lists_allowed_outside_multisegment(mode: Mode) -> None:
    config = base(mode).new_policy("P-B", "B", blocked=["A", "C"])
    assert config.policy("p-b").kind is ListKind.BLOCK
    assert config.policy("p-b").segments == ("A", "C")


def test_new_policy_defaults_and_fields() -> None:
    config = base().new_policy(
        "P-B", "b", allowed=["c", "B"], moderation_allowed=True, comment="hello"
    )
    policy = config.policy("P-B")
    assert policy.segment == "B"
    assert policy.segments == ("C", "B")
    assert policy.kind is ListKind.ALLOW
    assert policy.state is PolicyState.INACTIVE
    assert policy.is_active is False
    assert policy.moderation_allowed is True
    assert policy.comment == "hello"
    assert config.policy_of("b") is policy


def test_set_policy_replaces_allow_list_with_block_list() -> None:
    config = base().new_policy("P-B", "B", allowed=["B", "C"], state=PolicyState.ACTIVE)
    changed = config.set_policy("p-b", blocked=["a"])
    policy = changed.policy("P-B")
    assert policy.kind is ListKind.BLOCK
    assert policy.segments == ("A",)
    assert policy.state is PolicyState.ACTIVE
    assert policy.id == config.policy("P-B").id
    back = changed.set_policy("P-B", allowed=["C"])
    assert (back.policy("P-B").kind, back.policy("P-B").segments) == (ListKind.ALLOW, ("C",))
    # The original is untouched.
    assert config.policy("P-B").kind is ListKind.ALLOW
    assert config.policy("P-B").segments == ("B", "C")


def test_set_policy_state_comment_and_moderation_keep_the_list() -> None:
    config = base()
    changed = config.set_policy(
        "P-A", state=PolicyState.ACTIVE, comment="c", moderation_allowed=True
    )
    policy = changed.policy("P-A")
    assert (policy.kind, policy.segments) == (ListKind.BLOCK, ("B",))
    assert (policy.state, policy.comment, policy.moderation_allowed) == (
        PolicyState.ACTIVE,
        "c",
        True,
    )
    assert [p.name for p in changed.active().policies] == ["P-A"]
    assert config.active().policies == ()
    assert config.active().segments == config.segments


def test_set_and_remove_unknown_policy() -> None:
    config = base()
    with pytest.raises(NotFound):
        config.set_policy("nope", state=PolicyState.ACTIVE)
    with pytest.raises(NotFound):
        config.remove_policy("nope")
    assert config.remove_policy("p-a").policies == ()


def test_names_are_case_insensitive_everywhere() -> None:
    config = base()
    assert config.segment("a") is config.segment("A")
    assert config.find_segment(" b ") is config.segment("B")
    assert config.policy("p-A") is config.policy("P-A")
    assert config.policy_of("a") is config.policy("P-A")
    assert config.policy_of("B") is None
    assert config.find_segment("nope") is None
    assert config.find_policy("nope") is None
    with pytest.raises(NotFound):
        config.segment("nope")


# -- the allow-omits-own-segment warning -------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "warns"),
    [
        ({"allowed": ["C"]}, True),
        ({"allowed": ["A", "C"]}, True),
        ({"allowed": ["B"]}, False),
        ({"allowed": ["b", "C"]}, False),
        ({"blocked": ["C"]}, False),
        ({"blocked": ["B"]}, False),
    ],
)
def test_allow_list_omitting_own_segment_warns(kwargs: dict[str, object], warns: bool) -> None:
    config = base().new_policy("P-B", "B", **kwargs)  # type: ignore[arg-type]
    warning = policy_warning(config.policy("P-B"))
    assert (warning is not None) is warns
    assert (len(config.warnings()) == 1) is warns
    if warning is not None:
        assert "'P-B'" in warning
        assert "'B'" in warning
        assert warning in config.warnings()


# -- immutability: a failing edit leaves the config unchanged -----------------------------


FAILING_EDITS: list[tuple[str, Callable[[BarrierConfig], object]]] = [
    ("segment.name_length", lambda c: c.new_segment("", F)),
    ("segment.name_unique", lambda c: c.new_segment("a", F)),
    ("segment.referenced", lambda c: c.remove_segment("B")),
    ("policy.name_length", lambda c: c.new_policy("", "C", blocked=["A"])),
    ("policy.name_unique", lambda c: c.new_policy("p-a", "C", blocked=["A"])),
    ("policy.one_list", lambda c: c.new_policy("P-C", "C")),
    ("policy.one_list", lambda c: c.set_policy("P-A", allowed=["A"], blocked=["B"])),
    ("policy.list_nonempty", lambda c: c.new_policy("P-C", "C", allowed=[])),
    ("policy.list_nonempty", lambda c: c.set_policy("P-A", blocked=[])),
    ("policy.segment_exists", lambda c: c.new_policy("P-Z", "Z", blocked=["A"])),
    ("policy.listed_segment_exists", lambda c: c.new_policy("P-C", "C", blocked=["Z"])),
    (
        "policy.listed_segment_exists",
        lambda c: c.set_policy("P-A", blocked=["C", "Z"], state=PolicyState.ACTIVE),
    ),
    ("policy.list_duplicate", lambda c: c.new_policy("P-C", "C", blocked=["A", "a"])),
    ("policy.list_duplicate", lambda c: c.set_policy("P-A", allowed=["C", "c"], comment="x")),
    ("policy.one_per_segment", lambda c: c.new_policy("Q", "a", blocked=["C"])),
    ("mode.requires_empty", lambda c: c.set_mode(Mode.LEGACY)),
    ("filter", lambda c: c.new_segment("D", "Department -eq")),
    ("filter", lambda c: c.set_segment_filter("A", "Nope -eq 'x'")),
]


@pytest.mark.parametrize(("rule", "edit"), FAILING_EDITS, ids=[r for r, _ in FAILING_EDITS])
def test_failing_edit_leaves_config_unchanged(
    rule: str, edit: Callable[[BarrierConfig], object]
) -> None:
    config = base()
    segments, policies = config.segments, config.policies
    snapshot = replace(config)
    filters = [s.filter for s in config.segments]
    exprs = [s.expr for s in config.segments]
    expected_error = FilterSyntaxError if rule == "filter" else RuleViolation
    with pytest.raises(expected_error) as caught:
        edit(config)
    if isinstance(caught.value, RuleViolation):
        assert caught.value.rule == rule
    assert config == snapshot
    assert config.segments is segments
    assert config.policies is policies
    assert [s.filter for s in config.segments] == filters
    assert [s.expr for s in config.segments] == exprs
    assert config.policy("P-A").kind is ListKind.BLOCK
    assert config.policy("P-A").segments == ("B",)
    assert config.policy("P-A").state is PolicyState.INACTIVE
    assert config.policy("P-A").comment == ""


def test_successful_edits_return_new_configs_and_leave_the_old_ones() -> None:
    empty = BarrierConfig()
    one = empty.new_segment("A", F)
    two = one.new_segment("B", F)
    with_policy = two.new_policy("P", "A", blocked=["B"])
    assert empty.segments == ()
    assert [s.name for s in one.segments] == ["A"]
    assert two.policies == ()
    assert len(with_policy.policies) == 1
    assert with_policy.remove_policy("P").policies == ()
    assert len(with_policy.policies) == 1
    with pytest.raises(AttributeError):
        with_policy.mode = Mode.LEGACY  # type: ignore[misc]


def test_segment_policies_is_policy_of_every_segment() -> None:
    """``segment_policies`` (one pass, used by the compiler and the stored form) agrees
    with ``policy_of`` per segment, case-insensitively, with and without a policy."""
    config = BarrierConfig(mode=Mode.SINGLE_SEGMENT)
    for name in ("Sales", "Research", "Legal"):
        config = config.new_segment(name, f"Department -eq '{name}'")
    config = config.new_policy("p1", "sales", blocked=["Research"])
    config = config.new_policy("p2", "LEGAL", allowed=["Legal"])
    assert config.segment_policies() == tuple(config.policy_of(s.name) for s in config.segments)
    assert [p.name if p else None for p in config.segment_policies()] == ["p1", None, "p2"]
