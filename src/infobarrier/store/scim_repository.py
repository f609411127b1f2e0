"""What SCIM knows of a user or group that the directory does not hold (migration 0003).

SCIM clients (Entra ID, Okta) send more than the directory keeps: an ``externalId``,
names, phone numbers, titles, an employee number... One row per provisioned user or
group keeps them, next to the directory, in the same transaction (same ``Session``) as
the directory change itself. The directory stays the system of record for everything it
holds; this table only remembers the rest, and when SCIM created and last changed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from infobarrier.store.repository import Tenant
from infobarrier.store.schema import Base


class ScimResourceRow(Base):
    """A provisioned user or group: its ``externalId`` and the SCIM attributes kept aside."""

    __tablename__ = "scim_resources"
    __table_args__ = (Index("ix_scim_resources_external_id", "tenant_id", "kind", "external_id"),)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "User" | "Group"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the directory object id
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: The longest ``externalId`` kept.
MAX_EXTERNAL_ID = 1024


@dataclass(frozen=True, slots=True)
class ScimRecord:
    """The SCIM side of one directory user or group."""

    kind: str
    id: str
    external_id: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _record(row: ScimResourceRow) -> ScimRecord:
    return ScimRecord(
        kind=row.kind,
        id=row.id,
        external_id=row.external_id,
        data=dict(row.data or {}),
        created=_aware(row.created_at),
        modified=_aware(row.modified_at),
    )


class ScimRepository:
    """Reads and writes of SCIM records, on the session of the directory's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant: Tenant, kind: str, id: str) -> ScimRecord | None:
        """The record of one user or group, or ``None`` (never provisioned through SCIM)."""
        row = self.session.get(ScimResourceRow, (kind, id))
        if row is None or row.tenant_id != tenant.id:
            return None
        return _record(row)

    def all(self, tenant: Tenant, kind: str) -> dict[str, ScimRecord]:
        """Every record of a kind, by object id."""
        rows = self.session.scalars(
            select(ScimResourceRow).where(
                ScimResourceRow.tenant_id == tenant.id, ScimResourceRow.kind == kind
            )
        )
        return {row.id: _record(row) for row in rows}

    def with_external_id(self, tenant: Tenant, kind: str, external_id: str) -> list[str]:
        """Ids of the records whose ``externalId`` is exactly this (it is case-exact)."""
        return list(
            self.session.scalars(
                select(ScimResourceRow.id)
                .where(
                    ScimResourceRow.tenant_id == tenant.id,
                    ScimResourceRow.kind == kind,
                    ScimResourceRow.external_id == external_id,
                )
                .order_by(ScimResourceRow.id)
            )
        )

    def save(self, tenant: Tenant, record: ScimRecord) -> None:
        """Insert or replace a record."""
        self.session.merge(
            ScimResourceRow(
                kind=record.kind,
                id=record.id,
                tenant_id=tenant.id,
                external_id=record.external_id,
                data=dict(record.data),
                created_at=record.created,
                modified_at=record.modified,
            )
        )
        self.session.flush()

    def delete(self, tenant: Tenant, kind: str, ids: Iterable[str]) -> None:
        """Forget records (their user or group is gone)."""
        wanted = list(ids)
        if not wanted:
            return
        self.session.execute(
            delete(ScimResourceRow).where(
                ScimResourceRow.tenant_id == tenant.id,
                ScimResourceRow.kind == kind,
                ScimResourceRow.id.in_(wanted),
            )
        )
