"""SKUs, seats and license assignments of one tenant (semantics §6)."""

from __future__ import annotations

from sqlalchemy import delete, select

from infobarrier.core.licenses import LicenseBook, Sku
from infobarrier.store.records import chunks
from infobarrier.store.schema import AssignmentRow, SkuRow
from infobarrier.store.scoped import TenantScoped


class LicenseRepository(TenantScoped):
    """The tenant's license book."""

    __slots__ = ()

    def load(self) -> LicenseBook:
        """The tenant's SKUs with seats, and who holds what."""
        skus = {
            r.part_number: Sku(r.part_number, r.name, tuple(r.service_plans), r.seats)
            for r in self._session.scalars(select(SkuRow).where(SkuRow.tenant_id == self._tid))
        }
        held: dict[str, set[str]] = {}
        for uid, part in self._session.execute(
            select(AssignmentRow.user_id, AssignmentRow.part_number).where(
                AssignmentRow.tenant_id == self._tid
            )
        ):
            held.setdefault(uid, set()).add(part)
        return LicenseBook(skus, {u: frozenset(p) for u, p in held.items()})

    def save(self, book: LicenseBook) -> None:
        """Store seats and assignments exactly as in ``book``."""
        for sku in book.skus.values():
            row = self._session.get(SkuRow, (self._tid, sku.part_number))
            if row is None:
                self._session.add(
                    SkuRow(
                        tenant_id=self._tid,
                        part_number=sku.part_number,
                        name=sku.name,
                        service_plans=list(sku.service_plans),
                        seats=sku.seats,
                    )
                )
            else:
                row.name = sku.name
                row.service_plans = list(sku.service_plans)
                row.seats = sku.seats
        # Only what differs is written: one assignment at 100,000 users is one row, not a
        # rewrite of every row.
        stored = {
            (str(uid), str(part))
            for uid, part in self._session.execute(
                select(AssignmentRow.user_id, AssignmentRow.part_number).where(
                    AssignmentRow.tenant_id == self._tid
                )
            )
        }
        wanted = {(uid, part) for uid, parts in book.assignments.items() for part in parts}
        gone: dict[str, list[str]] = {}
        for uid, part in sorted(stored - wanted):
            gone.setdefault(part, []).append(uid)
        for part, uids in gone.items():
            for chunk in chunks(uids):
                self._session.execute(
                    delete(AssignmentRow).where(
                        AssignmentRow.tenant_id == self._tid,
                        AssignmentRow.part_number == part,
                        AssignmentRow.user_id.in_(chunk),
                    )
                )
        self._session.add_all(
            AssignmentRow(tenant_id=self._tid, user_id=uid, part_number=part)
            for uid, part in sorted(wanted - stored)
        )
        self._session.flush()
