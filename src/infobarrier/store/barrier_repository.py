"""Segments, policies and the barrier settings of one tenant, as defined (semantics §1, §3, §4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.directory import fold
from infobarrier.store import codec
from infobarrier.store.records import Tenant
from infobarrier.store.schema import PolicyRow, SegmentRow, TenantRow
from infobarrier.store.scoped import TenantScoped


class BarrierRepository(TenantScoped):
    """The tenant's barrier configuration (not as applied: see the epochs)."""

    __slots__ = ()

    def load(self) -> BarrierConfig:
        """The tenant's settings, segments and policies as defined."""
        settings = self._session.execute(
            select(TenantRow.mode, TenantRow.people_search_restriction).where(
                TenantRow.id == self._tid
            )
        ).one()
        segments = self._session.scalars(
            select(SegmentRow)
            .where(SegmentRow.tenant_id == self._tid)
            .order_by(SegmentRow.position)
        )
        policies = self._session.scalars(
            select(PolicyRow).where(PolicyRow.tenant_id == self._tid).order_by(PolicyRow.position)
        )
        return codec.config_from_json(
            {
                "mode": settings[0],
                "people_search_restriction": settings[1],
                "segments": [{"id": s.id, "name": s.name, "filter": s.filter} for s in segments],
                "policies": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "segment": p.segment,
                        "kind": p.kind,
                        "segments": p.segments,
                        "state": p.state,
                        "moderation_allowed": p.moderation_allowed,
                        "comment": p.comment,
                    }
                    for p in policies
                ],
            }
        )

    def save(self, config: BarrierConfig) -> Tenant:
        """Make the stored configuration equal ``config``; returns the updated tenant."""
        self._session.execute(
            update(TenantRow)
            .where(TenantRow.id == self._tid)
            .values(
                mode=config.mode.value, people_search_restriction=config.people_search_restriction
            )
        )
        keep_p = [p.id for p in config.policies]
        keep_s = [s.id for s in config.segments]
        self._session.execute(
            delete(PolicyRow).where(PolicyRow.tenant_id == self._tid, PolicyRow.id.not_in(keep_p))
        )
        self._session.execute(
            delete(SegmentRow).where(
                SegmentRow.tenant_id == self._tid, SegmentRow.id.not_in(keep_s)
            )
        )
        self._session.flush()
        for i, s in enumerate(config.segments):
            self._put(
                SegmentRow,
                s.id,
                {"position": i, "name": s.name, "name_key": fold(s.name), "filter": s.filter},
            )
        for i, p in enumerate(config.policies):
            self._put(
                PolicyRow,
                p.id,
                {
                    "position": i,
                    "name": p.name,
                    "name_key": fold(p.name),
                    "segment": p.segment,
                    "segment_key": fold(p.segment),
                    "kind": p.kind.value,
                    "segments": list(p.segments),
                    "state": p.state.value,
                    "moderation_allowed": p.moderation_allowed,
                    "comment": p.comment,
                },
            )
        self._session.flush()
        t = self._tenant
        return Tenant(
            t.id, t.name, config.mode, config.people_search_restriction, t.created_at, t.version
        )

    def _put(
        self, table: type[SegmentRow] | type[PolicyRow], id: str, values: dict[str, Any]
    ) -> None:
        """Insert or update the row ``(this tenant, id)``: never another tenant's."""
        row = self._session.get(table, (self._tid, id))
        if row is None:
            self._session.add(table(tenant_id=self._tid, id=id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
