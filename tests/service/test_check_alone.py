"""One question read from only the people it names (``DecisionHandler.check_alone``, what
the command line's ``check`` asks) answers exactly as the epoch in force does (§5, §6).

The property runs random tenants (departments, a group, hidden and disabled accounts,
LEGACY too), random policies, random directory changes after the apply and random approved
exceptions of two users or two segments, and compares every pair, every action and a group
check, errors included. A second test shows the cost does not grow with the tenant: the
same statements in a tenant 50 times bigger, and neither the stored epoch nor the whole
directory read.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.contract import Action, Check, Verdict, make_check
from infobarrier.core.directory import make_user
from infobarrier.core.errors import InfobarrierError, NotFound
from infobarrier.service.wiring import Services, build
from infobarrier.store.application_repository import ApplicationRepository
from infobarrier.store.directory_repository import DirectoryRepository

ACTOR = "alice"
TENANT = "t"
DEPARTMENTS = ["Sales", "Research", "Legal", "Ops", ""]
SEGMENTS = ["Sales", "Research", "Legal", "Ops"]
PAIR_ACTIONS = [a.value for a in Action if a is not Action.ADD_TEAM_MEMBER]

people_st = st.lists(
    st.tuples(st.sampled_from(DEPARTMENTS), st.booleans(), st.booleans(), st.booleans()),
    min_size=2,
    max_size=7,
)
policies_st = st.lists(
    st.tuples(
        st.sampled_from(SEGMENTS),
        st.booleans(),
        st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3, unique=True),
    ),
    max_size=4,
    unique_by=lambda p: p[0],
)
changes_st = st.lists(
    st.tuples(
        st.sampled_from(["department", "enabled", "group", "ungroup", "add", "remove"]),
        st.integers(0, 9),
        st.sampled_from(DEPARTMENTS),
    ),
    max_size=6,
)
exceptions_st = st.lists(st.tuples(st.booleans(), st.integers(0, 9), st.integers(0, 9)), max_size=2)


def _answer(ask: Callable[[str, Check], Verdict], check: Check) -> object:
    """A verdict as a dict, or the error a bad question raises (its kind and message)."""
    try:
        return ask(TENANT, check).as_dict()
    except InfobarrierError as exc:
        return (type(exc).__name__, str(exc))


def _setup(
    services: Services,
    people: list[tuple[str, bool, bool, bool]],
    rules: list[tuple[str, bool, list[str]]],
    mode: Mode,
) -> list[str]:
    services.tenants.create(TENANT, mode, ACTOR)
    upns = [f"u{i}@x.example" for i in range(len(people))]
    services.directory.put_users(
        TENANT,
        [
            make_user(
                upn, account_enabled=enabled, hidden_from_address_lists=hidden, Department=dept
            )
            for upn, (dept, enabled, hidden, _) in zip(upns, people, strict=True)
        ],
        ACTOR,
    )
    grouped = [upn for upn, person in zip(upns, people, strict=True) if person[3]]
    services.directory.put_group(TENANT, "Ops", ACTOR, members=grouped)
    for name in SEGMENTS:
        text = (
            "MemberOf -eq 'Ops' -or Department -eq 'Ops'"
            if name == "Ops"
            else f"Department -eq '{name}'"
        )
        services.barriers.new_segment(TENANT, name, text, ACTOR)
    for segment, allow, listed in rules:
        others = [s for s in listed if s != segment] or [s for s in SEGMENTS if s != segment][:1]
        allow = allow or mode is Mode.MULTI_SEGMENT  # MultiSegment: allow lists only (§4)
        kind = {"allowed": others} if allow else {"blocked": others}
        services.barriers.new_policy(
            TENANT, f"P-{segment}", segment, ACTOR, state=PolicyState.ACTIVE, **kind
        )
    return upns


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    people=people_st,
    rules=policies_st,
    steps=changes_st,
    openings=exceptions_st,
    mode=st.sampled_from([Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT, Mode.LEGACY]),
    applied=st.booleans(),
    restricted=st.booleans(),
)
def test_one_question_from_its_people_answers_as_the_epoch_in_force(
    people: list[tuple[str, bool, bool, bool]],
    rules: list[tuple[str, bool, list[str]]],
    steps: list[tuple[str, int, str]],
    openings: list[tuple[bool, int, int]],
    mode: Mode,
    applied: bool,
    restricted: bool,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        services = build(f"sqlite:///{Path(folder) / 'p.db'}")
        try:
            upns = _setup(services, people, rules, mode)
            if mode is not Mode.LEGACY:  # Legacy keeps the restriction on (§4)
                services.tenants.set_people_search_restriction(TENANT, restricted, ACTOR)
            if applied:
                services.applications.apply(TENANT, ACTOR)
            present = list(upns)
            for kind, k, dept in steps:
                if kind == "add":
                    upn = f"n{len(upns)}@x.example"
                    upns.append(upn)
                    present.append(upn)
                    services.directory.put_users(TENANT, [make_user(upn, Department=dept)], ACTOR)
                    continue
                if len(present) <= 2:
                    continue
                upn = present[k % len(present)]
                if kind == "department":
                    services.directory.update_user(TENANT, upn, ACTOR, Department=dept)
                elif kind == "enabled":
                    services.directory.update_user(TENANT, upn, ACTOR, account_enabled=k % 2 == 1)
                elif kind == "group":
                    services.directory.add_member(TENANT, "Ops", upn, ACTOR)
                elif kind == "ungroup":
                    with contextlib.suppress(NotFound):  # not a member
                        services.directory.remove_member(TENANT, "Ops", upn, ACTOR)
                else:
                    services.directory.remove_user(TENANT, upn, ACTOR)
                    present.remove(upn)
            end = datetime.now(UTC) + timedelta(hours=2)
            for by_users, i, j in openings:
                if by_users:
                    a, b = present[i % len(present)], present[j % len(present)]
                    if a == b:
                        continue
                    named: dict[str, Any] = {"users": [a, b]}
                else:
                    a, b = SEGMENTS[i % len(SEGMENTS)], SEGMENTS[j % len(SEGMENTS)]
                    if a == b:
                        continue
                    named = {"segments": [a, b]}
                try:
                    found = services.exceptions.request(
                        TENANT,
                        actions=["chat", "call"],
                        start=None,
                        end=end,
                        why="test",
                        actor=ACTOR,
                        **named,
                    )
                except InfobarrierError:
                    continue  # e.g. the two are not separated: nothing to open
                services.exceptions.approve(TENANT, found.id, "bob")

            asked = [*present, "nobody@x.example"]
            for a, b in itertools.product(asked, asked):
                for action in PAIR_ACTIONS:
                    check = make_check(action, a, [b])
                    alone = _answer(services.decisions.check_alone, check)
                    assert alone == _answer(services.decisions.check, check), (a, b, action)
            group = make_check("group-chat", present[0], present[1:4])
            alone = _answer(services.decisions.check_alone, group)
            assert alone == _answer(services.decisions.check, group)
        finally:
            services.decisions.epochs.wait()
            services.store.dispose()


@contextmanager
def counted(services: Services) -> Iterator[dict[str, int]]:
    """Statements run, whole-directory loads and stored-epoch reads while the block runs."""
    seen = {"statements": 0, "directory": 0, "stored": 0}

    def statement(*_args: Any) -> None:
        seen["statements"] += 1

    load, compiled = DirectoryRepository.load, ApplicationRepository.compiled

    def whole(repo: DirectoryRepository) -> Any:
        seen["directory"] += 1
        return load(repo)

    def stored(repo: ApplicationRepository) -> Any:
        seen["stored"] += 1
        return compiled(repo)

    event.listen(services.store.engine, "before_cursor_execute", statement)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DirectoryRepository, "load", whole)
        patch.setattr(ApplicationRepository, "compiled", stored)
        try:
            yield seen
        finally:
            event.remove(services.store.engine, "before_cursor_execute", statement)


def test_one_question_costs_the_same_in_a_tenant_fifty_times_bigger(tmp_path: Path) -> None:
    costs = []
    for size in (6, 300):
        services = build(f"sqlite:///{tmp_path / f'{size}.db'}")
        try:
            people = [("Research", True, False, False), ("Sales", True, False, False)]
            people += [("Legal", True, False, True)] * size
            _setup(services, people, [("Research", False, ["Sales"])], Mode.SINGLE_SEGMENT)
            services.applications.apply(TENANT, ACTOR)
            check = make_check("chat", "u0@x.example", ["u1@x.example"])
            with counted(services) as seen:
                verdict = services.decisions.check_alone(TENANT, check)
            assert not verdict.allowed
            assert verdict.policy == "P-Research"
            assert (seen["directory"], seen["stored"]) == (0, 0)
            costs.append(seen["statements"])
        finally:
            services.decisions.epochs.wait()
            services.store.dispose()
    assert costs[0] == costs[1]
