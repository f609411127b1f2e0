"""The provisioning service under SCIM: one transaction, reconciliation only when needed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from infobarrier.core.barriers import Mode
from infobarrier.core.directory import Group, make_user, new_id
from infobarrier.core.errors import Conflict
from infobarrier.service.context import TenantTx
from infobarrier.service.provisioning import ProvisioningHandler, ResourceKind
from infobarrier.service.wiring import Services
from infobarrier.store.scim_repository import ScimResourceRow


@pytest.fixture
def tenant(services: Services) -> str:
    services.tenants.create("acme", Mode.SINGLE_SEGMENT, "test")
    return "acme"


def recording(services: Services) -> tuple[ProvisioningHandler, list[int]]:
    calls: list[int] = []

    def after_change(tx: TenantTx) -> None:
        calls.append(tx.tenant.id)

    return ProvisioningHandler(services.provisioning.ctx, after_change=after_change), calls


def test_a_failed_request_leaves_nothing_behind(services: Services, tenant: str) -> None:
    handler, calls = recording(services)

    def request_that_fails() -> None:
        with handler.session(tenant, "token:t") as session:
            session.save_user(make_user("ann@acme.com"), external_id="A", data={"title": "X"})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        request_that_fails()
    assert len(services.directory.directory(tenant)) == 0
    assert calls == []
    with handler.session(tenant, "token:t", write=False) as session:
        assert session.all_records(ResourceKind.USER) == {}
    assert not [e for e in services.audit.entries(tenant) if e.kind.startswith("scim.")]


def test_reconciliation_runs_when_the_directory_changed(services: Services, tenant: str) -> None:
    handler, calls = recording(services)
    ann = make_user("ann@acme.com")
    with handler.session(tenant, "token:t") as session:
        session.save_user(ann, external_id=None, data={})
    assert len(calls) == 1
    with handler.session(tenant, "token:t") as session:  # only SCIM-side data changes
        session.save_user(ann, external_id="A-1", data={"title": "Boss"})
    assert len(calls) == 1
    with handler.session(tenant, "token:t") as session:
        assert session.with_external_id(ResourceKind.USER, "A-1") == [ann.id]
        assert session.with_external_id(ResourceKind.USER, "a-1") == []
        record = session.record(ResourceKind.USER, ann.id)
        assert record is not None
        assert dict(record.data) == {"title": "Boss"}
        assert record.created <= record.modified
    with (
        handler.session(tenant, "token:t", write=False) as session,
        pytest.raises(RuntimeError, match="read-only"),
    ):
        session.delete_user(ann.id)


def test_uniqueness_is_a_conflict(services: Services, tenant: str) -> None:
    handler, _calls = recording(services)
    with handler.session(tenant, "token:t") as session:
        session.save_user(make_user("ann@acme.com"), external_id=None, data={})
        session.save_group(Group(new_id(), "Ops"), external_id=None, data={})
        with pytest.raises(Conflict):
            session.save_user(make_user("ANN@acme.com"), external_id=None, data={})
        with pytest.raises(Conflict):
            session.save_group(Group(new_id(), "ops"), external_id=None, data={})


def test_records_go_with_the_tenant(services: Services, tenant: str) -> None:
    handler, _calls = recording(services)
    with handler.session(tenant, "token:t") as session:
        session.save_user(make_user("ann@acme.com"), external_id="A", data={})
    with services.store.transaction() as repo:
        assert repo.session.scalar(select(func.count()).select_from(ScimResourceRow)) == 1
        repo.tenants.delete_data(repo.tenants.get(tenant))
    with services.store.transaction() as repo:
        assert repo.session.scalar(select(func.count()).select_from(ScimResourceRow)) == 0
