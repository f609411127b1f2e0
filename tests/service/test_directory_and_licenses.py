"""Directory and licensing use cases (§2): service accounts, seats, imports all-or-nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from service_builders import ACTOR, MakeTenant

from infobarrier.core.directory import UserKind
from infobarrier.core.errors import InvalidInput, LicensingError, NotFound
from infobarrier.formats import entra_users_fast
from infobarrier.service.context import Context
from infobarrier.service.wiring import Services


@pytest.fixture
def tenant(make_tenant: MakeTenant) -> str:
    return make_tenant("abc", {"se1@abc.example": "Support", "guest@abc.example": "Support"})


def test_service_account_has_vendor_and_sponsor(services: Services, tenant: str) -> None:
    account = services.directory.create_service_account(
        tenant, "v1-ra@abc.example", vendor="Vendor1", sponsor="se1@abc.example", actor=ACTOR
    )
    directory = services.directory.directory(tenant)
    stored = directory.by_upn("v1-ra@abc.example")
    assert stored.kind is UserKind.SERVICE_ACCOUNT
    assert stored.company == "Vendor1"
    assert stored.sponsor_id == directory.by_upn("se1@abc.example").id
    assert account == stored


def test_service_account_needs_a_known_internal_sponsor(services: Services, tenant: str) -> None:
    with pytest.raises(NotFound):
        services.directory.create_service_account(
            tenant, "v@abc.example", vendor="V", sponsor="nobody@abc.example", actor=ACTOR
        )
    services.directory.create_service_account(
        tenant, "v1@abc.example", vendor="V", sponsor="se1@abc.example", actor=ACTOR
    )
    with pytest.raises(InvalidInput, match="internal user"):
        services.directory.create_service_account(
            tenant, "v2@abc.example", vendor="V", sponsor="v1@abc.example", actor=ACTOR
        )


def test_seats_are_enforced(services: Services, tenant: str) -> None:
    services.directory.purchase(tenant, "MICROSOFT_REMOTE_ASSIST", 1, ACTOR)
    services.directory.assign(tenant, "se1@abc.example", "MICROSOFT_REMOTE_ASSIST", ACTOR)
    with pytest.raises(LicensingError, match="no seat left") as refused:
        services.directory.assign(tenant, "guest@abc.example", "MICROSOFT_REMOTE_ASSIST", ACTOR)
    assert refused.value.code == "out_of_seats"
    with pytest.raises(LicensingError, match="1 are assigned"):
        services.directory.purchase(tenant, "MICROSOFT_REMOTE_ASSIST", 0, ACTOR)
    book = services.directory.licenses(tenant)
    assert book.sku("MICROSOFT_REMOTE_ASSIST").seats == 1
    assert book.assigned("MICROSOFT_REMOTE_ASSIST") == 1


def test_remote_assist_refused_to_guests(services: Services, tenant: str) -> None:
    services.directory.update_user(tenant, "guest@abc.example", ACTOR, user_type="Guest")
    services.directory.purchase(tenant, "MICROSOFT_REMOTE_ASSIST", 5, ACTOR)
    with pytest.raises(LicensingError, match="Member accounts only"):
        services.directory.assign(tenant, "guest@abc.example", "MICROSOFT_REMOTE_ASSIST", ACTOR)
    assert services.directory.licenses(tenant).assigned("MICROSOFT_REMOTE_ASSIST") == 0


def test_users_csv_import_is_all_or_nothing(services: Services, tenant: str) -> None:
    good = b"userPrincipalName,department\nnew1@abc.example,Sales\n"
    bad = good + b"new2@abc.example,Sales\nnew1@abc.example,HR\n"  # duplicate UPN, line 4
    with pytest.raises(InvalidInput, match="line 4"):
        services.directory.import_users_csv(tenant, bad, ACTOR)
    assert services.directory.directory(tenant).find_upn("new2@abc.example") is None
    summary = services.directory.import_users_csv(tenant, good, ACTOR)
    assert (summary.users_created, summary.users_updated) == (1, 0)
    again = services.directory.import_users_csv(
        tenant, b"userPrincipalName,department\nnew1@abc.example,HR\n", ACTOR
    )
    assert (again.users_created, again.users_updated) == (0, 1)
    user = services.directory.directory(tenant).by_upn("new1@abc.example")
    assert user.attributes["Department"] == "HR"


def test_a_users_import_leaves_the_garbage_collector_as_it_found_it(
    services: Services, tenant: str
) -> None:
    """The import pauses the cyclic collector while it builds its rows: after a success
    and after a refusal it is on again, and one left off by the caller stays off."""
    good = b"userPrincipalName\ngc1@abc.example\n"
    assert gc.isenabled()
    services.directory.import_users_csv(tenant, good, ACTOR)
    assert gc.isenabled()
    with pytest.raises(InvalidInput):
        services.directory.import_users_csv(tenant, good + b"gc1@abc.example\n", ACTOR)
    assert gc.isenabled()
    gc.disable()
    try:
        services.directory.import_users_csv(tenant, b"userPrincipalName\ngc2@abc.example\n", ACTOR)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_users_import_waits_for_the_write_lock_with_the_collector_on(
    services: Services, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause is process-wide: the file is parsed with the collector off, but the
    tenant's write transaction (which may wait for another writer) is asked for with it on,
    so a server's other requests never wait on a lock without it."""
    seen: dict[str, list[bool]] = {"parse": [], "transaction": []}
    parse = entra_users_fast.read_users_csv
    transaction = Context.tenant_tx

    def parsing(data: bytes | str, *, source: str = "users.csv") -> entra_users_fast.UsersFile:
        seen["parse"].append(gc.isenabled())
        return parse(data, source=source)

    @contextmanager
    def opening(self: Context, tenant: str, actor: str, *, write: bool = True) -> Iterator[Any]:
        if write:
            seen["transaction"].append(gc.isenabled())
        with transaction(self, tenant, actor, write=write) as tx:
            yield tx

    monkeypatch.setattr(entra_users_fast, "read_users_csv", parsing)
    monkeypatch.setattr(Context, "tenant_tx", opening)
    services.directory.import_users_csv(tenant, b"userPrincipalName\nlock1@abc.example\n", ACTOR)
    assert seen == {"parse": [False], "transaction": [True]}
    assert gc.isenabled()


def test_a_users_import_keeps_the_collector_paused_until_it_has_committed(
    services: Services, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit runs among every row and cell of the file, none in a cycle: the
    collector comes back after it (docs/decisions.md, "The users CSV import path")."""
    after_commit: list[bool] = []
    transaction = Context.tenant_tx

    @contextmanager
    def opening(self: Context, tenant: str, actor: str, *, write: bool = True) -> Iterator[Any]:
        with transaction(self, tenant, actor, write=write) as tx:
            yield tx
        if write:
            after_commit.append(gc.isenabled())

    monkeypatch.setattr(Context, "tenant_tx", opening)
    services.directory.import_users_csv(tenant, b"userPrincipalName\ncommit1@abc.example\n", ACTOR)
    assert after_commit == [False]
    assert gc.isenabled()
