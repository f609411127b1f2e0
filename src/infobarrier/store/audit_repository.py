"""The hash-chained audit log of one tenant (semantics §9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, insert, select
from sqlalchemy.orm import Session

from infobarrier.core.audit import GENESIS, AuditEntry, StoredEntry, entry_hash, parse_entry
from infobarrier.core.errors import Conflict
from infobarrier.store.records import Tenant, aware, utcnow
from infobarrier.store.schema import AuditRow
from infobarrier.store.scoped import TenantScoped


class AuditRepository(TenantScoped):
    """Append and read the tenant's audit entries, hashed with the audit key."""

    __slots__ = ("_key", "head")

    def __init__(self, session: Session, tenant: Tenant, key: bytes) -> None:
        super().__init__(session, tenant)
        self._key = key
        #: ``(seq, hash)`` of the last entry appended in this transaction.
        self.head: tuple[int, str] | None = None

    def append(self, actor: str, kind: str, detail: dict[str, Any]) -> AuditEntry:
        """Append an entry chained to the last one by a keyed hash."""
        last = self._session.execute(
            select(AuditRow.seq, AuditRow.hash)
            .where(AuditRow.tenant_id == self._tid)
            .order_by(AuditRow.seq.desc())
            .limit(1)
        ).first()
        seq = (last[0] if last else 0) + 1
        prev = last[1] if last else GENESIS
        at = utcnow()
        digest = entry_hash(seq, at, actor, kind, detail, prev, self._key)
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
        self.head = (seq, digest)
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
            digest = entry_hash(seq, at, actor, kind, detail, prev, self._key)
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
        self.head = (seq, prev)

    def _in_order(self) -> Select[int, str, str, str, str, str, str]:
        """The tenant's rows in order, ``detail`` as stored text (unparsed)."""
        return (
            select(
                AuditRow.seq,
                AuditRow.at,
                AuditRow.actor,
                AuditRow.kind,
                cast(AuditRow.detail, Text),
                AuditRow.prev_hash,
                AuditRow.hash,
            )
            .where(AuditRow.tenant_id == self._tid)
            .order_by(AuditRow.seq)
        )

    def kinds(self) -> list[str]:
        """Every kind the tenant's log holds, sorted."""
        return sorted(
            self._session.scalars(
                select(AuditRow.kind).where(AuditRow.tenant_id == self._tid).distinct()
            )
        )

    def stored(self) -> list[StoredEntry]:
        """Every entry as stored, in order, unparsed (what verification reads)."""
        return [StoredEntry(*row) for row in self._session.execute(self._in_order())]

    def last(self) -> tuple[int, str] | None:
        """``(count, last hash)`` of the log, or ``None`` when empty."""
        row = self._session.execute(
            select(func.count(), func.max(AuditRow.seq)).where(AuditRow.tenant_id == self._tid)
        ).one()
        if not row[0]:
            return None
        head = self._session.scalar(
            select(AuditRow.hash).where(AuditRow.tenant_id == self._tid, AuditRow.seq == row[1])
        )
        return int(row[0]), str(head)

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[AuditEntry]:
        """Audit entries in order, optionally filtered; a malformed row is a clear error."""
        query = self._in_order()
        if actor:
            query = query.where(AuditRow.actor == actor)
        if kinds:
            query = query.where(AuditRow.kind.in_(list(kinds)))
        entries: list[AuditEntry] = []
        for row in self._session.execute(query):
            parsed = parse_entry(StoredEntry(*row))
            if isinstance(parsed, str):
                raise Conflict(
                    f"audit entry {row[0]} is malformed: {parsed} (see `infobarrier audit verify`)"
                )
            entries.append(parsed)
        since, until = aware(since), aware(until)  # a time without offset is UTC
        if since is not None:
            entries = [e for e in entries if e.at >= since]
        if until is not None:
            entries = [e for e in entries if e.at <= until]
        return entries
