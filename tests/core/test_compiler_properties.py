"""Property tests: the compiled epoch agrees with the naive reference model (§3, §6).

Random small directories, random filters (generated as trees, rendered, parsed), random
policies made through ``BarrierConfig``'s own methods, in all three modes.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference_model
from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, PolicyState
from infobarrier.core.columns import DirectoryColumns
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatibility, compatible_many
from infobarrier.core.directory import Directory, Group, make_user
from infobarrier.core.filters import And, Comparison, Expr, Not, Op, Or, matches, parse_filter
from infobarrier.core.filters.ast import render

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- directories -------------------------------------------------------------------------------

ATTRIBUTE_VALUES = ["", "Sales", "sales", "SALES", "Trading", "trading desk", "a.b", "a*b", "R&D"]
PROXIES = ["smtp:a@x.com", "SMTP:A@X.COM", "smtp:b@y.com", "x500:sales", "smtp:o'hara@x.com"]
GROUPS = [
    Group(id="group-traders", display_name="Traders", mail="traders@contoso.com"),
    Group(id="group-research", display_name="Research", mail=""),
    Group(id="group-ops", display_name="Ops", mail="ops@x.com"),
]


@dataclass(frozen=True)
class UserSpec:
    department: str
    company: str
    ext1: str
    proxies: tuple[str, ...]
    groups: frozenset[int]
    enabled: bool
    guest: bool
    hidden: bool | None


user_specs = st.builds(
    UserSpec,
    department=st.sampled_from(ATTRIBUTE_VALUES),
    company=st.sampled_from(ATTRIBUTE_VALUES),
    ext1=st.sampled_from(ATTRIBUTE_VALUES),
    proxies=st.lists(st.sampled_from(PROXIES), max_size=3, unique=True).map(tuple),
    groups=st.frozensets(st.integers(0, len(GROUPS) - 1), max_size=3),
    enabled=st.sampled_from([True, True, True, False]),
    guest=st.sampled_from([False, False, True]),
    hidden=st.sampled_from([None, None, True, False]),
)


def build_directory(specs: list[UserSpec]) -> Directory:
    directory = Directory()
    for i, spec in enumerate(specs):
        directory.put_user(
            make_user(
                f"u{i}@contoso.com",
                id=f"id-{i}",
                account_enabled=spec.enabled,
                user_type="Guest" if spec.guest else "Member",
                hidden_from_address_lists=spec.hidden,
                proxy_addresses=spec.proxies,
                department=spec.department,
                company=spec.company,
                extensionattribute1=spec.ext1,
            )
        )
    for g, group in enumerate(GROUPS):
        members = frozenset(f"id-{i}" for i, spec in enumerate(specs) if g in spec.groups)
        directory.put_group(dataclasses.replace(group, members=members))
    return directory


# -- filters ---------------------------------------------------------------------------------

FILTER_ATTRIBUTES = [
    "Department",
    "Company",
    "ExtensionAttribute1",
    "ProxyAddresses",
    "MemberOf",
    "UserPrincipalName",
]
FILTER_VALUES = [
    *ATTRIBUTE_VALUES,
    "*",
    "s*",
    "*S",
    "*a*",
    "sa*es",
    "tr*ing*",
    "a?b",
    "a.*",
    "[s]ales",
    *PROXIES,
    "smtp:*",
    "*@X.COM",
    "traders",
    "TRADERS@CONTOSO.COM",
    "group-ops",
    "Research",
    "tr*",
    "o'*",
    'say "x"',
    "U1@CONTOSO.COM",
    "u*@contoso.com",
    "*2@*",
]

comparisons = st.builds(
    Comparison,
    attribute=st.sampled_from(FILTER_ATTRIBUTES),
    op=st.sampled_from(list(Op)),
    value=st.sampled_from(FILTER_VALUES),
)


def _compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), operands.map(And), operands.map(Or))


exprs: st.SearchStrategy[Expr] = st.recursive(comparisons, _compound, max_leaves=6)

#: Filters most users match, so that users land in many segments (conflicts, MultiSegment).
BROAD = [
    parse_filter("Department -notlike 'zzz*'"),
    parse_filter("Company -ne 'nothing'"),
    parse_filter("-not (MemberOf -eq 'nobody')"),
    parse_filter("Department -like '*' -or Department -eq ''"),
]
segment_filters = st.one_of(exprs, exprs, st.sampled_from(BROAD))


# -- configurations ----------------------------------------------------------------------------


@st.composite
def configs(
    draw: st.DrawFn,
    modes: tuple[Mode, ...] = tuple(Mode),
    min_segments: int = 0,
    filters: st.SearchStrategy[Expr] = segment_filters,
) -> BarrierConfig:
    mode = draw(st.sampled_from(modes))
    config = BarrierConfig().set_mode(mode)
    if mode is not Mode.LEGACY and draw(st.booleans()):
        config = config.set_people_search_restriction(False)
    max_segments = 12 if mode is Mode.MULTI_SEGMENT else 5
    count = draw(st.integers(min(min_segments, max_segments), max_segments))
    names = [f"Seg{i}" for i in range(count)]
    for name in names:
        config = config.new_segment(name, render(draw(filters)))
    kinds = [ListKind.ALLOW] if mode is Mode.MULTI_SEGMENT else list(ListKind)

    def spelled(name: str) -> str:
        return draw(st.sampled_from([name, name.lower(), name.upper(), f" {name} "]))

    def listed() -> list[str]:
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        return [spelled(n) for n in chosen]

    for name in names:
        if not draw(st.booleans()):
            continue
        kind = draw(st.sampled_from(kinds))
        state = draw(
            st.sampled_from([PolicyState.ACTIVE, PolicyState.ACTIVE, PolicyState.INACTIVE])
        )
        items = listed()
        config = config.new_policy(
            f"P-{name}",
            spelled(name),
            allowed=items if kind is ListKind.ALLOW else None,
            blocked=items if kind is ListKind.BLOCK else None,
            state=state,
        )
        if draw(st.integers(0, 3)) == 0:  # edit it afterwards: list (maybe other kind), state
            new_kind = draw(st.sampled_from(kinds))
            new_items = listed()
            config = config.set_policy(
                f"p-{name}",
                allowed=new_items if new_kind is ListKind.ALLOW else None,
                blocked=new_items if new_kind is ListKind.BLOCK else None,
                state=draw(st.sampled_from(list(PolicyState))),
            )
    return config


# -- properties ----------------------------------------------------------------------------------


@SETTINGS
@given(specs=st.lists(user_specs, max_size=8), config=configs())
def test_epoch_agrees_with_reference(specs: list[UserSpec], config: BarrierConfig) -> None:
    check_against_reference(specs, config)


#: MultiSegment with many broad segments: users in up to 12 segments, some over the limit.
crowded = configs(
    modes=(Mode.MULTI_SEGMENT,),
    min_segments=9,
    filters=st.one_of(st.sampled_from(BROAD), st.sampled_from(BROAD), exprs),
)


@settings(SETTINGS, max_examples=150)
@given(specs=st.lists(user_specs, min_size=1, max_size=6), config=crowded)
def test_crowded_multisegment_agrees_with_reference(
    specs: list[UserSpec], config: BarrierConfig
) -> None:
    check_against_reference(specs, config)


def check_against_reference(specs: list[UserSpec], config: BarrierConfig) -> None:
    directory = build_directory(specs)
    epoch = compile_epoch(directory, config)
    users = list(directory.users())
    assert len(epoch) == len(users)

    # (a) segment membership
    for i, user in enumerate(users):
        assert epoch.user_ids[i] == user.id
        expected = tuple(reference_model.segments_of(directory, config, user))
        assert epoch.segments_of(i) == expected, (user.upn, expected)
        limit = reference_model.MAX_PER_USER[config.mode]
        assert epoch.in_conflict(i) == (len(expected) > limit)

    # (b) compatibility, pair by pair and vectorised
    n = len(users)
    expected_matrix = np.zeros((n, n), dtype=bool)
    for i, j in itertools.product(range(n), repeat=2):
        expected = reference_model.compatible(directory, config, users[i], users[j])
        expected_matrix[i, j] = expected
        verdict = compatibility(epoch, i, j)
        assert verdict.allowed == expected, (users[i].upn, users[j].upn, verdict)
    us, vs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    fast = compatible_many(epoch, us.ravel(), vs.ravel()).reshape(n, n)
    assert (fast == expected_matrix).all()

    event(f"mode {config.mode.value}")
    event(f"users in conflict: {bool(epoch.conflicts())} ({config.mode.value})")
    event(f"a user in several segments: {any(len(p) > 1 for p in epoch.profiles)}")
    event(f"some pair refused: {not expected_matrix.all()}")


@SETTINGS
@given(specs=st.lists(user_specs, max_size=8), expr=exprs)
def test_both_evaluation_paths_agree_with_reference(specs: list[UserSpec], expr: Expr) -> None:
    directory = build_directory(specs)
    users = list(directory.users())
    mask = DirectoryColumns(directory).evaluate(parse_filter(render(expr)))
    for i, user in enumerate(users):

        def values_of(attribute: str, user=user) -> list[str]:  # type: ignore[no-untyped-def]
            if attribute == "MemberOf":
                found = directory.member_of_values(user.id)
            elif attribute == "ProxyAddresses":
                found = list(user.proxy_addresses)
            else:
                found = [user.attribute(attribute)]
            return [v for v in found if v]

        expected = reference_model.holds(expr, directory, user)
        assert bool(mask[i]) == expected, (user, render(expr))
        assert matches(expr, values_of) == expected, (user, render(expr))


def _strip(expr: Expr) -> Expr:
    if isinstance(expr, Comparison):
        return dataclasses.replace(expr, position=0)
    if isinstance(expr, Not):
        return Not(_strip(expr.operand))
    if isinstance(expr, And):
        return And(tuple(_strip(o) for o in expr.operands))
    return Or(tuple(_strip(o) for o in expr.operands))


@settings(max_examples=300, deadline=None)
@given(expr=exprs)
def test_render_then_parse_gives_back_the_tree(expr: Expr) -> None:
    """(c) ``parse(render(expr)) == expr``, as ``render``'s docstring promises."""
    assert parse_filter(render(expr)) == expr


@settings(max_examples=300, deadline=None)
@given(expr=exprs)
def test_render_then_parse_gives_back_the_shape(expr: Expr) -> None:
    """The same round trip, comparing trees without the comparisons' source positions."""
    parsed = parse_filter(render(expr))
    assert _strip(parsed) == expr
    assert render(parsed) == render(expr)
