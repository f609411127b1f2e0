"""Reading and verifying the audit log (semantics §9), and recording an enforcer's events.

Every other entry is written by the use case it records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from infobarrier.core.audit import AuditEntry, first_broken
from infobarrier.core.enforcement import check_event
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
        """(entries checked, first broken entry and why, or None when intact).

        Checks every row's keyed hash and link, then the log against its signed head
        checkpoint (how many entries, the last hash), kept outside the database.
        """
        anchor = self.ctx.store.audit_anchor
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            stored = tx.repos.audit.stored()
            tenant_id = tx.tenant.id
        checkpoint = anchor.checkpoint(tenant_id)
        if isinstance(checkpoint, str):
            return len(stored), (1, f"{checkpoint} ({anchor.heads_file})")
        if checkpoint is None:
            # Every tenant's log starts with its creation, anchored at once.
            where = anchor.heads_file or "memory"
            return len(stored), (
                1,
                f"no signed checkpoint of this log in {where}: "
                "cutting it short cannot be ruled out",
            )
        return len(stored), first_broken(stored, anchor.key, checkpoint)

    def record(
        self, tenant: str, actor: str, kind: str, detail: dict[str, Any], via: str
    ) -> AuditEntry:
        """Append an enforcer's event (``core.enforcement``: enforcement kinds only, a
        small detail); ``via`` (the token) is added to the detail. Returns the entry."""
        recorded = {**check_event(kind, detail), "via": via}
        with self.ctx.tenant_tx(tenant, actor) as tx:
            return tx.repos.audit.append(actor, kind, recorded)
