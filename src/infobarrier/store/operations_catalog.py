"""What an operator watches, for every tenant at once: a few grouped queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infobarrier.core.codes import ApplicationState
from infobarrier.store.records import aware
from infobarrier.store.schema import ApplicationRow, AuditRow, EpochRow, TenantRow


@dataclass(frozen=True, slots=True)
class TenantFigures:
    """One tenant's operational figures as stored."""

    id: int
    name: str
    version: int
    #: The latest applied epoch (0 before the first apply) and when it was stored.
    epoch: int
    epoch_created_at: datetime | None
    #: A running application's percent done (``None``: none running).
    applying_percent: int | None
    #: Entries in the tenant's audit chain.
    audit_entries: int


class OperationsCatalog:
    """Figures of every tenant (read by ``/metrics``), in four statements."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def figures(self) -> list[TenantFigures]:
        """Every tenant's figures, by name."""
        session = self._session
        tenants = session.execute(
            select(TenantRow.id, TenantRow.name, TenantRow.version).order_by(TenantRow.name)
        ).all()
        latest = (
            select(EpochRow.tenant_id, func.max(EpochRow.id).label("id"))
            .group_by(EpochRow.tenant_id)
            .subquery()
        )
        epochs = {
            int(t): (int(i), aware(at))
            for t, i, at in session.execute(
                select(EpochRow.tenant_id, EpochRow.id, EpochRow.created_at).join(
                    latest, EpochRow.id == latest.c.id
                )
            ).all()
        }
        running = {
            int(t): int(p)
            for t, p in session.execute(
                select(ApplicationRow.tenant_id, ApplicationRow.percent).where(
                    ApplicationRow.status == ApplicationState.IN_PROGRESS.value
                )
            ).all()
        }
        audit = {
            int(t): int(n or 0)
            for t, n in session.execute(
                select(AuditRow.tenant_id, func.max(AuditRow.seq)).group_by(AuditRow.tenant_id)
            ).all()
        }
        found = []
        for tenant_id, name, version in tenants:
            epoch, created = epochs.get(int(tenant_id), (0, None))
            found.append(
                TenantFigures(
                    id=int(tenant_id),
                    name=str(name),
                    version=int(version),
                    epoch=epoch,
                    epoch_created_at=created,
                    applying_percent=running.get(int(tenant_id)),
                    audit_entries=audit.get(int(tenant_id), 0),
                )
            )
        return found
