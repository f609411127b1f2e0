"""What every handler shares: the store and how to open a tenant's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infobarrier.store.repository import Repository, Store, Tenant


@dataclass(frozen=True, slots=True)
class TenantTx:
    """A transaction scoped to one tenant, with the actor to audit."""

    repo: Repository
    tenant: Tenant
    actor: str
    #: A writer may see its own uncommitted changes, which must never be cached.
    write: bool = True

    def audit(self, kind: str, /, **detail: Any) -> None:
        """Append an audit entry for this tenant (semantics §9)."""
        self.repo.append_audit(self.tenant, self.actor, kind, detail)


@dataclass(frozen=True, slots=True)
class Context:
    """Shared by all handlers."""

    store: Store

    @contextmanager
    def tenant_tx(self, tenant: str, actor: str, *, write: bool = True) -> Iterator[TenantTx]:
        """Open a transaction on a tenant (locked for writers), or raise NotFound."""
        with self.store.transaction(write=write) as repo:
            found = repo.tenant(tenant)
            if write:
                repo.lock_tenant(found)
            yield TenantTx(repo, found, actor, write)
