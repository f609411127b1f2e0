"""The tenants themselves: the registry every tenant-scoped repository starts from."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from infobarrier.core.barriers import Mode, check_tenant_name
from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import Conflict, NotFound
from infobarrier.core.licenses import CATALOG
from infobarrier.store.records import Tenant, aware, utcnow
from infobarrier.store.schema import (
    ApplicationRow,
    AssignmentRow,
    AuditRow,
    Base,
    ChangeRow,
    CollabRow,
    EpochRow,
    GroupRow,
    MembershipRow,
    MessageRow,
    PolicyRow,
    SegmentRow,
    SkuRow,
    TenantRow,
    TokenRow,
    UserRow,
)


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(
        row.id,
        row.name,
        Mode(row.mode),
        row.people_search_restriction,
        aware(row.created_at) or utcnow(),
        row.version,
    )


class TenantCatalog:
    """Create, find, list, lock and delete tenants."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def create(self, name: str, mode: Mode = Mode.SINGLE_SEGMENT) -> Tenant:
        """A new tenant with the license catalog (semantics §1, §2)."""
        check_tenant_name(name)
        if self._session.scalar(select(TenantRow).where(TenantRow.name == name)) is not None:
            raise Conflict(f"tenant {name!r} already exists", code=ErrorCode.TENANT_EXISTS)
        row = TenantRow(
            name=name, mode=mode.value, people_search_restriction=True, created_at=utcnow()
        )
        self._session.add(row)
        self._session.flush()
        for sku in CATALOG:
            self._session.add(
                SkuRow(
                    tenant_id=row.id,
                    part_number=sku.part_number,
                    name=sku.name,
                    service_plans=list(sku.service_plans),
                    seats=0,
                )
            )
        return _tenant(row)

    def find(self, name: str) -> Tenant | None:
        """A tenant by name, or ``None``."""
        row = self._session.scalar(select(TenantRow).where(TenantRow.name == name.strip()))
        return _tenant(row) if row is not None else None

    def get(self, name: str) -> Tenant:
        """A tenant by name, or :class:`NotFound`."""
        found = self.find(name)
        if found is None:
            raise NotFound(f"no tenant {name!r} (create it with `infobarrier tenants create`)")
        return found

    def all(self) -> list[Tenant]:
        """Every tenant, by name."""
        rows = self._session.scalars(select(TenantRow).order_by(TenantRow.name))
        return [_tenant(r) for r in rows]

    def lock(self, tenant: Tenant) -> None:
        """Serialise writers of one tenant (PostgreSQL row lock; SQLite is already serial)."""
        self._session.execute(
            select(TenantRow.id).where(TenantRow.id == tenant.id).with_for_update()
        )

    def versions(self) -> dict[int, int]:
        """Every tenant's version, by tenant id (what the change feed polls)."""
        return dict(self._session.execute(select(TenantRow.id, TenantRow.version)).tuples())

    def name_of(self, tenant_id: int) -> str | None:
        """A tenant's name by id, or ``None``."""
        return self._session.scalar(select(TenantRow.name).where(TenantRow.id == tenant_id))

    def delete_data(self, tenant: Tenant) -> None:
        """Remove a tenant with its directory, licenses, barriers and history (demo reset)."""
        tables: tuple[type[Base], ...] = (
            MessageRow,
            ChangeRow,
            CollabRow,
            TokenRow,
            AuditRow,
            EpochRow,
            ApplicationRow,
            PolicyRow,
            SegmentRow,
            AssignmentRow,
            SkuRow,
            MembershipRow,
            GroupRow,
            UserRow,
        )
        for table in tables:
            self._session.execute(delete(table).where(table.tenant_id == tenant.id))  # type: ignore[attr-defined]
        # Tables defined elsewhere (SCIM records) go by ``ON DELETE CASCADE``.
        self._session.execute(delete(TenantRow).where(TenantRow.id == tenant.id))
