"""Wall-crossing exceptions of a tenant (migration 0005; semantics §11).

One row per exception, keyed by its id and owned by one tenant: every read names the
tenant, so another tenant's exception is simply not found. The row keeps the state and
the end of the window as columns (the expiry sweep searches them) and the whole value as
JSON. A second table holds each tenant's maximum window when it is not the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import NotFound
from infobarrier.core.exceptions import DEFAULT_MAX_WINDOW, State, WallException
from infobarrier.store.schema import Base
from infobarrier.store.scoped import TenantScoped

#: The states the sweep looks at: a window can still end for these.
OPEN_STATES = (State.REQUESTED.value, State.APPROVED.value)


class ExceptionRow(Base):
    """One exception: state and end as columns, the value as JSON."""

    __tablename__ = "wall_exceptions"
    __table_args__ = (Index("ix_wall_exceptions_due", "state", "end_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, object]] = mapped_column(JSON)


class ExceptionSettingsRow(Base):
    """A tenant's own maximum window (absent: the default of 30 days)."""

    __tablename__ = "wall_exception_settings"
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    max_window_seconds: Mapped[int] = mapped_column(Integer)


class ExceptionsRepository(TenantScoped):
    """The exceptions of one tenant."""

    __slots__ = ()

    def save(self, exc: WallException) -> None:
        """Insert or replace an exception of the tenant."""
        row = self._session.get(ExceptionRow, exc.id)
        if row is not None and row.tenant_id != self._tid:
            raise NotFound(f"no exception {exc.id!r}", code=ErrorCode.UNKNOWN_EXCEPTION)
        self._session.merge(
            ExceptionRow(
                id=exc.id,
                tenant_id=self._tid,
                state=exc.state.value,
                end_at=exc.end,
                data=exc.to_json(),
            )
        )
        self._session.flush()

    def save_many(self, found: list[WallException]) -> None:
        """Update many existing exceptions of the tenant at once (the expiry sweep)."""
        if not found:
            return
        ids = [e.id for e in found]
        owned = set(
            self._session.scalars(
                select(ExceptionRow.id).where(
                    ExceptionRow.tenant_id == self._tid, ExceptionRow.id.in_(ids)
                )
            )
        )
        if owned != set(ids):
            raise NotFound(
                "an exception to update is not this tenant's", code=ErrorCode.UNKNOWN_EXCEPTION
            )
        self._session.execute(
            update(ExceptionRow),
            [{"id": e.id, "state": e.state.value, "data": e.to_json()} for e in found],
        )
        self._session.flush()

    def get(self, exception_id: str) -> WallException:
        """One exception of the tenant, or :class:`NotFound` (also for another tenant's)."""
        row = self._session.get(ExceptionRow, exception_id.strip())
        if row is None or row.tenant_id != self._tid:
            raise NotFound(
                f"no exception {exception_id!r} in tenant {self._tenant.name!r}",
                code=ErrorCode.UNKNOWN_EXCEPTION,
            )
        return WallException.from_json(row.data)

    def all(self, states: Iterable[State] | None = None) -> list[WallException]:
        """The tenant's exceptions (of these states), oldest request first."""
        query = select(ExceptionRow.data).where(ExceptionRow.tenant_id == self._tid)
        if states is not None:
            query = query.where(ExceptionRow.state.in_([s.value for s in states]))
        found = [WallException.from_json(d) for d in self._session.scalars(query)]
        found.sort(key=lambda e: (e.requested_at, e.id))
        return found

    def approved(self) -> list[WallException]:
        """What decisions consult: every approved exception (the clock decides if active)."""
        return self.all([State.APPROVED])

    def due(self, now: datetime) -> list[WallException]:
        """Requested or approved exceptions whose window has ended at ``now``."""
        rows = self._session.scalars(
            select(ExceptionRow.data).where(
                ExceptionRow.tenant_id == self._tid,
                ExceptionRow.state.in_(OPEN_STATES),
                ExceptionRow.end_at <= now,
            )
        )
        return [WallException.from_json(d) for d in rows]

    def max_window(self) -> timedelta:
        """The tenant's maximum window."""
        row = self._session.get(ExceptionSettingsRow, self._tid)
        return DEFAULT_MAX_WINDOW if row is None else timedelta(seconds=row.max_window_seconds)

    def set_max_window(self, window: timedelta) -> None:
        """Set the tenant's maximum window."""
        self._session.merge(
            ExceptionSettingsRow(
                tenant_id=self._tid, max_window_seconds=int(window.total_seconds())
            )
        )
        self._session.flush()


def tenants_due(session: Session, now: datetime) -> list[int]:
    """Ids of the tenants with an exception due to expire (one indexed search across
    tenants: what the expiry sweep asks before opening each tenant's transaction)."""
    rows = session.scalars(
        select(ExceptionRow.tenant_id)
        .where(ExceptionRow.state.in_(OPEN_STATES), ExceptionRow.end_at <= now)
        .distinct()
    )
    return sorted(int(t) for t in rows)
