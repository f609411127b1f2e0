"""The epoch cache: reused while nothing changes, patched for user changes, reloaded from
the stored form on apply."""

from __future__ import annotations

import pytest
from service_builders import ACTOR, MakeTenant

from infobarrier.core.barriers import PolicyState
from infobarrier.core.contract import make_check
from infobarrier.service.epochs import EpochProvider
from infobarrier.service.wiring import Services


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts full compilations of the epoch in force."""
    calls: list[str] = []
    original = EpochProvider._compile

    def counting(repo, tenant):  # type: ignore[no-untyped-def]
        calls.append(tenant.name)
        return original(repo, tenant)

    monkeypatch.setattr(EpochProvider, "_compile", staticmethod(counting))
    return calls


def test_cache_patches_user_changes_and_rebuilds_on_apply(
    services: Services, make_tenant: MakeTenant, compiles: list[str]
) -> None:
    tenant = make_tenant("t", {"a@x.example": "Sales", "b@x.example": "Research"})
    services.barriers.new_segment(tenant, "Sales", "Department -eq 'Sales'", ACTOR)
    services.barriers.new_segment(tenant, "Research", "Department -eq 'Research'", ACTOR)
    services.barriers.new_segment(tenant, "Ops", "MemberOf -eq 'Ops'", ACTOR)
    services.barriers.new_policy(
        tenant, "S-R", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply(tenant, ACTOR)

    def chat() -> bool:
        request = make_check("chat", "a@x.example", ["b@x.example"])
        return services.decisions.check(tenant, request).allowed

    assert not chat()
    compiled = len(compiles)
    assert not chat()
    assert len(compiles) == compiled  # nothing changed: reused

    services.directory.update_user(tenant, "b@x.example", ACTOR, Department="Sales")
    assert chat()
    services.directory.put_group(tenant, "Ops", ACTOR, members=["a@x.example"])
    status = services.decisions.recipient(tenant, "a@x.example")
    assert status.errors
    assert "IBPolicyConflict" in status.errors[0]  # Sales and Ops
    assert not chat()
    assert len(compiles) == compiled  # both caught up by patching, no recompile

    services.barriers.set_policy(tenant, "S-R", ACTOR, state=PolicyState.INACTIVE)
    services.directory.put_group(tenant, "Ops", ACTOR, members=[])
    services.applications.apply(tenant, ACTOR)
    assert chat()
    # An apply stores the epoch's compiled form: the reader loads it, compiling nothing.
    assert len(compiles) == compiled


def test_writes_in_a_row_reconcile_from_the_patched_cache(
    services: Services, make_tenant: MakeTenant, compiles: list[str]
) -> None:
    """With conversations to reconcile, each write patches the cached epoch, even when
    other writes came in since it was filled and no read caught it up in between."""
    people = {"a@x.example": "Sales", "b@x.example": "Sales", "c@x.example": "Sales"}
    tenant = make_tenant("t", people)
    services.barriers.new_segment(tenant, "Sales", "Department -eq 'Sales'", ACTOR)
    services.barriers.new_segment(tenant, "Research", "Department -eq 'Research'", ACTOR)
    services.barriers.new_policy(
        tenant, "S-R", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply(tenant, ACTOR)
    services.directory.purchase(tenant, "SPE_E5", 10, ACTOR)
    for upn in people:
        services.directory.assign(tenant, upn, "SPE_E5", ACTOR)
    first = services.collaboration.create_chat(tenant, "a@x.example", ["b@x.example"], ACTOR)
    second = services.collaboration.create_chat(tenant, "a@x.example", ["c@x.example"], ACTOR)
    services.decisions.check(tenant, make_check("chat", "a@x.example", ["b@x.example"]))
    compiled = len(compiles)

    services.directory.update_user(tenant, "b@x.example", ACTOR, Department="Research")
    services.directory.update_user(tenant, "c@x.example", ACTOR, Department="Research")

    assert len(compiles) == compiled  # both reconciled from the patched cache
    for chat in (first, second):
        found = services.collaboration.get(tenant, "chat", chat.id)
        assert found is not None
        assert found.read_only  # type: ignore[union-attr]
