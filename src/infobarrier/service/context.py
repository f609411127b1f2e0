"""What every handler shares: the store and how to open a tenant's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infobarrier.store.database import Store
from infobarrier.store.records import Tenant, utcnow
from infobarrier.store.transaction import TenantRepositories

#: What time it is (UTC); tests inject their own (wall-crossing exceptions, semantics §11).
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class TenantTx:
    """A transaction scoped to one tenant, with the actor to audit.

    ``repos`` are built for this tenant only: nothing reachable from a ``TenantTx``
    reads or writes another tenant's rows.
    """

    repos: TenantRepositories
    tenant: Tenant
    actor: str
    #: A writer may see its own uncommitted changes, which must never be cached.
    write: bool = True
    #: The service's clock.
    clock: Clock = utcnow

    def audit(self, kind: str, /, **detail: Any) -> None:
        """Append an audit entry for this tenant (semantics §9)."""
        self.repos.audit.append(self.actor, kind, detail)

    def audit_many(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """Append many entries ``(kind, detail)`` for this tenant at once."""
        self.repos.audit.append_many([(self.actor, k, d) for k, d in entries])


@dataclass(frozen=True, slots=True)
class Context:
    """Shared by all handlers."""

    store: Store
    clock: Clock = utcnow

    @contextmanager
    def tenant_tx(self, tenant: str, actor: str, *, write: bool = True) -> Iterator[TenantTx]:
        """Open a transaction on a tenant (locked for writers), or raise NotFound.

        Once the block committed, :meth:`committed` anchors the audit log and announces
        a new version to other replicas (the change feed, ``service/feed.py``): that is
        the service's job, never a repository's.
        """
        with self.store.transaction(write=write) as transaction:
            found = transaction.tenants.get(tenant)
            if write:
                transaction.tenants.lock(found)
            tx = TenantTx(transaction.scope(found), found, actor, write, self.clock)
            yield tx
        self.committed(tx.repos)

    def committed(self, repos: TenantRepositories) -> None:
        """After a tenant's transaction committed: move the signed head of its audit log
        (kept outside the database), and announce a new version to other replicas."""
        head = repos.audit.head
        if head is not None:
            self.store.audit_anchor.advance(repos.tenant.id, head[0], head[1])
        latest = repos.changes.latest
        if latest is not None:
            self.store.announce(repos.tenant.id, latest)
