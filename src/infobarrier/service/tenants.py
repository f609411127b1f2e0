"""Tenants and their settings (semantics §1)."""

from __future__ import annotations

from infobarrier.core.barriers import Mode
from infobarrier.service.context import Context
from infobarrier.store.records import Tenant


class TenantHandler:
    """Create and list tenants; change mode and people-search restriction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, name: str, mode: Mode, actor: str) -> Tenant:
        """A new tenant with the license catalog and no seats."""
        with self.ctx.store.transaction() as transaction:
            tenant = transaction.tenants.create(name, mode)
            repos = transaction.scope(tenant)
            repos.audit.append(actor, "tenant.created", {"mode": mode.value})
        self.ctx.committed(repos)
        return tenant

    def list(self) -> list[Tenant]:
        """Every tenant."""
        with self.ctx.store.transaction(write=False) as transaction:
            return transaction.tenants.all()

    def get(self, name: str) -> Tenant:
        """One tenant, or NotFound."""
        with self.ctx.store.transaction(write=False) as transaction:
            return transaction.tenants.get(name)

    def set_mode(self, name: str, mode: Mode, actor: str) -> Tenant:
        """``Set-PolicyConfig -InformationBarrierMode`` with the rules of §1."""
        with self.ctx.tenant_tx(name, actor) as tx:
            config = tx.repos.barriers.load()
            changed = config.set_mode(mode)
            if changed is config:
                return tx.tenant
            tx.audit("tenant.mode", before=config.mode.value, after=mode.value)
            return tx.repos.barriers.save(changed)

    def set_people_search_restriction(self, name: str, enabled: bool, actor: str) -> Tenant:
        """``Set-PolicyConfig -InformationBarrierPeopleSearchRestriction``."""
        with self.ctx.tenant_tx(name, actor) as tx:
            config = tx.repos.barriers.load()
            tx.audit(
                "tenant.people_search_restriction",
                enabled=enabled,
                before=config.people_search_restriction,
                after=enabled,
            )
            return tx.repos.barriers.save(config.set_people_search_restriction(enabled))
