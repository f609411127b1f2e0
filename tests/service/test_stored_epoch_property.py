"""Property: a reader that loads the stored epoch and the changes since it answers exactly as
one that compiles the whole directory, on random tenants and random change sequences
(semantics §5: a directory change takes effect at once, without re-apply)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import make_user
from infobarrier.core.epoch import Epoch
from infobarrier.service.wiring import Services, build

ACTOR = "test"
TENANT = "t"
DEPARTMENTS = ["Sales", "Research", "Legal", "Ops", ""]
SEGMENTS = ["Sales", "Research", "Legal", "Ops"]

users = st.lists(
    st.tuples(st.sampled_from(DEPARTMENTS), st.booleans(), st.booleans()),
    min_size=1,
    max_size=8,
)
policies = st.lists(
    st.tuples(
        st.sampled_from(SEGMENTS),
        st.booleans(),  # allow list (else block list)
        st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3, unique=True),
    ),
    max_size=4,
    unique_by=lambda p: p[0],
)
# A change: (kind, user number, department or group flag)
changes = st.lists(
    st.tuples(
        st.sampled_from(["department", "enabled", "group", "add", "remove"]),
        st.integers(0, 9),
        st.sampled_from(DEPARTMENTS),
    ),
    max_size=8,
)


def _pairs(epoch: Epoch) -> dict[tuple[str, str], object]:
    upns = sorted(epoch.upns)
    verdicts: dict[tuple[str, str], object] = {
        (a, b): epoch.allowed_upn(a, b) for a, b in itertools.product(upns, upns)
    }
    for upn in upns:
        i = epoch.index_of(upn)
        assert i is not None
        verdicts[(upn, "segments")] = epoch.segments_of(i)
        verdicts[(upn, "conflict")] = epoch.in_conflict(i)
    return verdicts


def _compiled(services: Services) -> Epoch:
    with services.store.transaction(write=False) as transaction:
        repos = transaction.scope(transaction.tenants.get(TENANT))
        stored = repos.applications.current_epoch()
        assert stored is not None
        return compile_epoch(repos.directory.load(), stored[1])


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    people=users,
    rules=policies,
    steps=changes,
    mode=st.sampled_from([Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT]),
)
def test_stored_epoch_and_changes_answer_as_a_full_compile(
    people: list[tuple[str, bool, bool]],
    rules: list[tuple[str, bool, list[str]]],
    steps: list[tuple[str, int, str]],
    mode: Mode,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'p.db'}"
        services = build(url)
        services.tenants.create(TENANT, mode, ACTOR)
        upns = [f"u{i}@x.example" for i in range(len(people))]
        services.directory.put_users(
            TENANT,
            [
                make_user(upn, Department=dept, account_enabled=enabled)
                if dept
                else make_user(upn, account_enabled=enabled)
                for upn, (dept, enabled, _) in zip(upns, people, strict=True)
            ],
            ACTOR,
        )
        grouped = [upn for upn, (_, _, g) in zip(upns, people, strict=True) if g]
        services.directory.put_group(TENANT, "Ops", ACTOR, members=grouped)
        for name in SEGMENTS:
            filter_text = (
                "MemberOf -eq 'Ops' -or Department -eq 'Ops'"
                if name == "Ops"
                else f"Department -eq '{name}'"
            )
            services.barriers.new_segment(TENANT, name, filter_text, ACTOR)
        for segment, allow, listed in rules:
            others = [s for s in listed if s != segment] or [s for s in SEGMENTS if s != segment][
                :1
            ]
            allow = allow or mode is Mode.MULTI_SEGMENT  # MultiSegment: allow lists only (§4)
            kind = {"allowed": others} if allow else {"blocked": others}
            services.barriers.new_policy(
                TENANT, f"P-{segment}", segment, ACTOR, state=PolicyState.ACTIVE, **kind
            )
        services.applications.apply(TENANT, ACTOR)
        services.decisions.epochs.wait()

        present = list(upns)
        for kind, k, dept in steps:
            if kind == "add":
                upn = f"n{len(upns)}@x.example"
                upns.append(upn)
                present.append(upn)
                user = make_user(upn, Department=dept) if dept else make_user(upn)
                services.directory.put_users(TENANT, [user], ACTOR)
                continue
            if len(present) <= 1:
                continue
            upn = present[k % len(present)]
            if kind == "department":
                services.directory.update_user(TENANT, upn, ACTOR, Department=dept)
            elif kind == "enabled":
                services.directory.update_user(TENANT, upn, ACTOR, account_enabled=bool(k % 2))
            elif kind == "group":
                services.directory.add_member(TENANT, "Ops", upn, ACTOR)
            else:
                services.directory.remove_user(TENANT, upn, ACTOR)
                present.remove(upn)
        expected = _pairs(_compiled(services))
        services.decisions.epochs.wait()
        services.store.dispose()

        reader = build(url)  # a new process: the stored form and the changes since it
        try:
            assert _pairs(reader.decisions.current(TENANT).epoch) == expected
            reader.decisions.epochs.wait()
        finally:
            reader.store.dispose()
        again = build(url)  # after a rebuild or a checkpoint was stored, if any
        try:
            assert _pairs(again.decisions.current(TENANT).epoch) == expected
        finally:
            again.store.dispose()
