"""Reading and verifying the audit log (semantics §9). Writing happens in each use case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from infobarrier.core.audit import AuditEntry, first_broken
from infobarrier.service.context import Context


class AuditHandler:
    """List entries and check the hash chain."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def entries(
        self,
        tenant: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[AuditEntry]:
        """Entries in order, optionally filtered by time, actor and kind."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.audit.entries(since=since, until=until, actor=actor, kinds=kinds)

    def verify(self, tenant: str) -> tuple[int, tuple[int, str] | None]:
        """(entries checked, first broken entry and why, or None when intact)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            entries = tx.repos.audit.entries()
        return len(entries), first_broken(entries)
