"""The hash-chained audit log of one tenant (semantics §9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from infobarrier.core.audit import GENESIS, AuditEntry, entry_hash
from infobarrier.store.records import aware, utcnow
from infobarrier.store.schema import AuditRow
from infobarrier.store.scoped import TenantScoped


class AuditRepository(TenantScoped):
    """Append and read the tenant's audit entries."""

    __slots__ = ()

    def append(self, actor: str, kind: str, detail: dict[str, Any]) -> AuditEntry:
        """Append a hash-chained entry."""
        last = self._session.scalar(
            select(AuditRow)
            .where(AuditRow.tenant_id == self._tid)
            .order_by(AuditRow.seq.desc())
            .limit(1)  # without it the ORM loads every entry of the tenant on each append
        )
        seq = (last.seq if last else 0) + 1
        prev = last.hash if last else GENESIS
        at = utcnow()
        digest = entry_hash(seq, at, actor, kind, detail, prev)
        self._session.add(
            AuditRow(
                tenant_id=self._tid,
                seq=seq,
                at=at.isoformat(),
                actor=actor,
                kind=kind,
                detail=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        self._session.flush()
        return AuditEntry(seq, at, actor, kind, detail, prev, digest)

    def append_many(self, entries: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Append many hash-chained entries ``(actor, kind, detail)`` in one insert."""
        if not entries:
            return
        last = self._session.execute(
            select(AuditRow.seq, AuditRow.hash)
            .where(AuditRow.tenant_id == self._tid)
            .order_by(AuditRow.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
        rows = []
        for actor, kind, detail in entries:
            seq += 1
            at = utcnow()
            digest = entry_hash(seq, at, actor, kind, detail, prev)
            rows.append(
                {
                    "tenant_id": self._tid,
                    "seq": seq,
                    "at": at.isoformat(),
                    "actor": actor,
                    "kind": kind,
                    "detail": detail,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        self._session.execute(insert(AuditRow), rows)
        self._session.flush()

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[AuditEntry]:
        """Audit entries in order, optionally filtered."""
        query = select(AuditRow).where(AuditRow.tenant_id == self._tid).order_by(AuditRow.seq)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if kinds:
            query = query.where(AuditRow.kind.in_(list(kinds)))
        entries = [
            AuditEntry(
                r.seq,
                datetime.fromisoformat(r.at),
                r.actor,
                r.kind,
                dict(r.detail),
                r.prev_hash,
                r.hash,
            )
            for r in self._session.scalars(query)
        ]
        since, until = aware(since), aware(until)  # a time without offset is UTC
        if since is not None:
            entries = [e for e in entries if e.at >= since]
        if until is not None:
            entries = [e for e in entries if e.at <= until]
        return entries
