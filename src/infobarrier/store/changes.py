"""The change log: what each tenant version changed (users concerned, or everything)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from infobarrier.store.records import Tenant
from infobarrier.store.schema import ChangeRow, TenantRow
from infobarrier.store.scoped import TenantScoped

#: How many change records a tenant keeps by default (a replica further behind recompiles;
#: the setting ``changes_kept``).
CHANGES_KEPT = 1000

#: A change to more users than this is recorded as a change to everyone (``None``): a
#: reader that far behind recompiles anyway (``service.epochs``), and a bulk import of a
#: million users then does not store a million ids in one row.
IDS_KEPT = 50_000


class ChangeLog(TenantScoped):
    """Versions of one tenant: bumped with every change that moves decisions."""

    __slots__ = ("kept", "latest")

    def __init__(self, session: Session, tenant: Tenant, *, kept: int = CHANGES_KEPT) -> None:
        super().__init__(session, tenant)
        self.kept = kept
        #: The last version recorded in this transaction (the service announces it).
        self.latest: int | None = None

    def record(self, users: Iterable[str] | None = None) -> int:
        """Record that decisions may have moved: for these users, or for all (``None``).

        Returns the new version. Nothing is announced here: the service announces
        :attr:`latest` once the transaction committed.
        """
        version = self._session.execute(
            update(TenantRow)
            .where(TenantRow.id == self._tid)
            .values(version=TenantRow.version + 1)
            .returning(TenantRow.version)
        ).scalar_one()
        given = set(users) if users is not None else None
        ids = sorted(given) if given is not None and len(given) <= IDS_KEPT else None
        self._session.add(ChangeRow(tenant_id=self._tid, version=version, user_ids=ids))
        self._session.execute(
            delete(ChangeRow).where(
                ChangeRow.tenant_id == self._tid, ChangeRow.version <= version - self.kept
            )
        )
        self._session.flush()
        self.latest = int(version)
        return self.latest

    def since(self, version: int) -> list[tuple[int, list[str] | None]]:
        """``(version, user ids or None)`` of each change after ``version``, in order."""
        rows = self._session.execute(
            select(ChangeRow.version, ChangeRow.user_ids)
            .where(ChangeRow.tenant_id == self._tid, ChangeRow.version > version)
            .order_by(ChangeRow.version)
        )
        return [(int(v), list(ids) if ids is not None else None) for v, ids in rows]
