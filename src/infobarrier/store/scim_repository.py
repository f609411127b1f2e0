"""What SCIM knows of a user or group that the directory does not hold.

SCIM clients (Entra ID, Okta) send more than the directory keeps: an ``externalId``,
names, phone numbers, titles, an employee number... One row per provisioned user or
group keeps them, next to the directory, in the same transaction (same ``Session``) as
the directory change itself. The directory stays the system of record for everything it
holds; this table only remembers the rest, and when SCIM created and last changed it.

Rows are keyed by ``(tenant_id, kind, id)``: two tenants that imported the same
directory (same object ids) hold two records, and a repository sees its tenant's only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from infobarrier.store.schema import Base
from infobarrier.store.scoped import TenantScoped


class ScimResourceRow(Base):
    """A provisioned user or group: its ``externalId`` and the SCIM attributes kept aside."""

    __tablename__ = "scim_resources"
    __table_args__ = (Index("ix_scim_resources_external_id", "tenant_id", "kind", "external_id"),)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "User" | "Group"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the directory object id
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


class ScimRepository(TenantScoped):
    """SCIM records of one tenant, on the session of the directory's transaction."""

    __slots__ = ()

    def get(self, kind: str, id: str) -> ScimRecord | None:
        """The record of one user or group, or ``None`` (never provisioned through SCIM)."""
        row = self._session.get(ScimResourceRow, (self._tid, kind, id))
        return _record(row) if row is not None else None

    def all(self, kind: str) -> dict[str, ScimRecord]:
        """Every record of a kind, by object id."""
        rows = self._session.scalars(
            select(ScimResourceRow).where(
                ScimResourceRow.tenant_id == self._tid, ScimResourceRow.kind == kind
            )
        )
        return {row.id: _record(row) for row in rows}

    def some(self, kind: str, ids: Iterable[str]) -> dict[str, ScimRecord]:
        """The records of these object ids that exist, by object id."""
        wanted = sorted(set(ids))
        found: dict[str, ScimRecord] = {}
        for start in range(0, len(wanted), 500):
            rows = self._session.scalars(
                select(ScimResourceRow).where(
                    ScimResourceRow.tenant_id == self._tid,
                    ScimResourceRow.kind == kind,
                    ScimResourceRow.id.in_(wanted[start : start + 500]),
                )
            )
            found.update((row.id, _record(row)) for row in rows)
        return found

    def with_external_id(self, kind: str, external_id: str) -> list[str]:
        """Ids of the records whose ``externalId`` is exactly this (it is case-exact)."""
        return list(
            self._session.scalars(
                select(ScimResourceRow.id)
                .where(
                    ScimResourceRow.tenant_id == self._tid,
                    ScimResourceRow.kind == kind,
                    ScimResourceRow.external_id == external_id,
                )
                .order_by(ScimResourceRow.id)
            )
        )

    def save(self, record: ScimRecord) -> None:
        """Insert or replace this tenant's record of ``(record.kind, record.id)``."""
        row = self._session.get(ScimResourceRow, (self._tid, record.kind, record.id))
        if row is None:
            self._session.add(
                ScimResourceRow(
                    tenant_id=self._tid,
                    kind=record.kind,
                    id=record.id,
                    external_id=record.external_id,
                    data=dict(record.data),
                    created_at=record.created,
                    modified_at=record.modified,
                )
            )
        else:
            row.external_id = record.external_id
            row.data = dict(record.data)
            row.created_at = record.created
            row.modified_at = record.modified
        self._session.flush()

    def delete(self, kind: str, ids: Iterable[str]) -> None:
        """Forget records (their user or group is gone)."""
        wanted = list(ids)
        if not wanted:
            return
        self._session.execute(
            delete(ScimResourceRow).where(
                ScimResourceRow.tenant_id == self._tid,
                ScimResourceRow.kind == kind,
                ScimResourceRow.id.in_(wanted),
            )
        )
