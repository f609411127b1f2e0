"""What an operator watches: per tenant, the epoch in force and its age, the epoch this
process holds, a running application's progress, and the audit chain's length.

Read in one short read transaction (a few grouped queries, whatever the number of
tenants) when ``/metrics`` is scraped, and by ``/readyz``. ``warm`` loads every tenant's
epoch in force, so a replica says it is ready only once it can answer without compiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from infobarrier.service.context import Context
from infobarrier.service.epochs import EpochProvider


@dataclass(frozen=True, slots=True)
class TenantOperations:
    """One tenant as an operator sees it."""

    name: str
    version: int
    #: The latest applied epoch (0 before the first apply) and when it was stored.
    epoch: int
    epoch_created_at: datetime | None
    #: The tenant version this process's cached epoch is at (``None``: not loaded).
    loaded_version: int | None
    #: A running application's percent done (``None``: none running).
    applying_percent: int | None
    #: Entries in the tenant's audit chain.
    audit_entries: int


class OperationsReader:
    """The operations view of every tenant, and the warm-up of their epochs."""

    def __init__(self, ctx: Context, epochs: EpochProvider) -> None:
        self.ctx = ctx
        self.epochs = epochs

    def tenants(self) -> list[TenantOperations]:
        """Every tenant, by name."""
        with self.ctx.store.transaction(write=False) as transaction:
            figures = transaction.operations.figures()
        return [
            TenantOperations(
                name=f.name,
                version=f.version,
                epoch=f.epoch,
                epoch_created_at=f.epoch_created_at,
                loaded_version=self.epochs.cached_version(f.id),
                applying_percent=f.applying_percent,
                audit_entries=f.audit_entries,
            )
            for f in figures
        ]

    def warm(self) -> int:
        """Load the epoch in force of every tenant into this process; how many."""
        with self.ctx.store.transaction(write=False) as transaction:
            names = [t.name for t in transaction.tenants.all()]
        for name in names:
            with self.ctx.tenant_tx(name, "", write=False) as tx:
                self.epochs.current(tx)
        return len(names)

    def ready(self) -> tuple[bool, list[str]]:
        """Whether every tenant's epoch is loaded in this process, and those that are not."""
        missing = [t.name for t in self.tenants() if t.loaded_version is None]
        return not missing, missing
