"""``Store.tenant_state``, the read every decision starts with: its statement is built
once with the name as a bound parameter, so each call must still answer for the tenant
it names, as stored now (docs/decisions.md, "The tenant state statement built once")."""

from __future__ import annotations

from infobarrier.core.barriers import Mode
from infobarrier.service.wiring import Services
from infobarrier.store import database


def _stored(services: Services, name: str) -> tuple[int, int, bool]:
    tenant = services.tenants.get(name)
    return tenant.id, tenant.version, tenant.people_search_restriction


def test_each_call_answers_for_the_tenant_it_names_as_stored_now(services: Services) -> None:
    services.tenants.create("first", Mode.SINGLE_SEGMENT, "test")
    services.tenants.create("second", Mode.SINGLE_SEGMENT, "test")
    store = services.store
    assert store.tenant_state("first") == _stored(services, "first")
    assert store.tenant_state("second") == _stored(services, "second")
    assert store.tenant_state("first") != store.tenant_state("second")
    assert store.tenant_state("nobody") is None

    flipped = not _stored(services, "second")[2]
    services.tenants.set_people_search_restriction("second", flipped, "test")
    services.tenants.set_mode("first", Mode.MULTI_SEGMENT, "test")
    assert store.tenant_state("second") == _stored(services, "second")
    assert store.tenant_state("second")[2] is flipped  # type: ignore[index]
    assert store.tenant_state("first") == _stored(services, "first")


def test_the_statement_is_built_once() -> None:
    """One module-level statement with the name bound, not a literal (a literal would be
    one tenant's answer for every tenant, or a new cache key a call)."""
    (parameter,) = database._TENANT_STATE.compile().params
    assert parameter == "name"
