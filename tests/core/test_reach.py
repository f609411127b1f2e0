"""The AuthZEN searches (``core.reach``) agree with the explained verdicts (§6, §7).

Reference: a user is found for some anchors when they are not an anchor and every
anchor is compatible with them (``compatibility``, one pair at a time); ``search`` with
PeopleSearchRestriction Disabled finds everyone but the anchors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core_builders import block, tenant, upn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_properties import UserSpec, build_directory, configs, user_specs

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.contract import Action
from infobarrier.core.decisions import compatibility, decide
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.exceptions import (
    ActiveExceptions,
    ExceptionIndex,
    WallException,
    approve,
    new_request,
)
from infobarrier.core.reach import (
    allowed_actions,
    members_compatible,
    reach_page,
    reach_total,
)


def _walk(epoch: object, anchors: list[int], limit: int, everyone: bool) -> list[int]:
    """Every page, following the positions ``reach_page`` returns."""
    found: list[int] = []
    start = 0
    for _ in range(1000):
        page, start = reach_page(epoch, anchors, start, limit, everyone=everyone)  # type: ignore[arg-type]
        assert len(page) <= limit
        found += page
        if not page:
            break
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(user_specs, min_size=1, max_size=9),
    config=configs(),
    anchors=st.lists(st.integers(0, 8), min_size=1, max_size=3, unique=True),
    limit=st.integers(1, 4),
    everyone=st.booleans(),
)
def test_pages_and_total_match_pairwise_compatibility(
    specs: list[UserSpec], config: BarrierConfig, anchors: list[int], limit: int, everyone: bool
) -> None:
    epoch = compile_epoch(build_directory(specs), config)
    n = len(specs)
    anchors = sorted({a % n for a in anchors})
    expected = [
        v
        for v in range(n)
        if v not in anchors
        and (everyone or all(compatibility(epoch, a, v).allowed for a in anchors))
    ]
    assert _walk(epoch, anchors, limit, everyone) == expected
    assert reach_total(epoch, anchors, everyone=everyone) == len(expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(user_specs, min_size=2, max_size=7),
    config=configs(),
    sender=st.integers(0, 6),
    others=st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True),
    restricted=st.booleans(),
)
def test_allowed_actions_are_those_decide_allows(
    specs: list[UserSpec],
    config: BarrierConfig,
    sender: int,
    others: list[int],
    restricted: bool,
) -> None:
    epoch = compile_epoch(build_directory(specs), config)
    n = len(specs)
    s = sender % n
    rest = sorted({o % n for o in others} - {s})
    expected = []
    for action in Action:
        try:
            if decide(epoch, action, s, rest, people_search_restriction=restricted).allowed:
                expected.append(action)
        except InfobarrierError:
            pass
    assert allowed_actions(epoch, s, rest, people_search_restriction=restricted) == expected


@settings(max_examples=100, deadline=None)
@given(
    specs=st.lists(user_specs, min_size=2, max_size=7),
    config=configs(),
    members=st.lists(st.integers(0, 6), min_size=2, max_size=4, unique=True),
)
def test_members_compatible_checks_pairs_only_for_group_actions(
    specs: list[UserSpec], config: BarrierConfig, members: list[int]
) -> None:
    epoch = compile_epoch(build_directory(specs), config)
    n = len(specs)
    people = sorted({m % n for m in members})
    pairwise = all(
        compatibility(epoch, a, b).allowed for i, a in enumerate(people) for b in people[i + 1 :]
    )
    for action in Action:
        group = action in (Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL)
        assert members_compatible(epoch, action, people) is (pairwise if group else True)


def test_a_zero_limit_returns_nothing_and_stays_in_place() -> None:
    epoch = compile_epoch(build_directory([]), BarrierConfig())
    assert reach_page(epoch, [], 0, 0) == ([], 0)


# -- wall-crossing exceptions (§11) --------------------------------------------------------
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _approved(**fields: object) -> WallException:
    base: dict[str, object] = {
        "id": "x1",
        "users": None,
        "actions": ["chat"],
        "start": T0,
        "end": T0 + timedelta(days=1),
        "justification": "deal team",
        "requester": "alice",
        "now": T0,
    }
    base.update(fields)
    return approve(new_request(**base), "bob", T0)  # type: ignore[arg-type]


def test_searches_find_exactly_whom_exceptions_open() -> None:
    """Sales and Research are walled off; one exception opens the segments for (group) chat, one
    opens s1 and r1 for calls, one has not started: each search agrees with ``decide``."""
    t = tenant(
        {
            "s1": {"department": "Sales"},
            "s2": {"department": "Sales"},
            "r1": {"department": "Research"},
            "r2": {"department": "Research"},
            "o1": {"department": "Ops"},
            "off": {"department": "Research", "enabled": False},
        },
        segments={
            "Sales": "Department -eq 'Sales'",
            "Research": "Department -eq 'Research'",
            "Ops": "Department -eq 'Ops'",
        },
        policies={"Sales": block("Research")},
    )
    epoch = t.epoch
    index = ExceptionIndex(
        [
            _approved(id="seg", segments=("Sales", "Research"), actions=["chat", "group-chat"]),
            _approved(
                id="pair", users=(("id-s1", upn("s1")), ("id-r1", upn("r1"))), actions=["call"]
            ),
            _approved(
                id="later",
                users=(("id-s2", upn("s2")), ("id-r2", upn("r2"))),
                actions=["call"],
                start=T0 + timedelta(hours=2),
            ),
        ]
    )
    openings = index.at(T0 + timedelta(hours=1))
    assert isinstance(openings, ActiveExceptions)
    n = len(epoch)
    for action in (Action.CHAT, Action.GROUP_CHAT, Action.CALL, Action.SHARE_SCREEN):
        for anchor in range(n):
            expected = [
                v
                for v in range(n)
                if v != anchor and decide(epoch, action, anchor, [v], openings=openings).allowed
            ]
            page, _ = reach_page(epoch, [anchor], 0, 100, openings=openings, action=action)
            assert page == expected, (action, epoch.upns[anchor])
            total = reach_total(epoch, [anchor], openings=openings, action=action)
            assert total == len(expected)
    s1, r1, s2 = t.ix("s1"), t.ix("r1"), t.ix("s2")
    call = reach_page(epoch, [s1], 0, 100, openings=openings, action=Action.CALL)[0]
    assert r1 in call  # the pair exception
    assert (
        t.ix("r2") not in reach_page(epoch, [s2], 0, 100, openings=openings, action=Action.CALL)[0]
    )  # not started yet
    assert members_compatible(epoch, Action.GROUP_CHAT, [s1, r1], openings)
    assert not members_compatible(epoch, Action.GROUP_CHAT, [s1, r1])
