"""Tenants and their settings (semantics §1)."""

from __future__ import annotations

from infobarrier.core.barriers import Mode
from infobarrier.service.context import Context
from infobarrier.store.repository import Tenant


class TenantHandler:
    """Create and list tenants; change mode and people-search restriction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, name: str, mode: Mode, actor: str) -> Tenant:
        """A new tenant with the license catalog and no seats."""
        with self.ctx.store.transaction() as repo:
            tenant = repo.create_tenant(name, mode)
            repo.append_audit(tenant, actor, "tenant.created", {"mode": mode.value})
            return tenant

    def list(self) -> list[Tenant]:
        """Every tenant."""
        with self.ctx.store.transaction() as repo:
            return repo.tenants()

    def get(self, name: str) -> Tenant:
        """One tenant, or NotFound."""
        with self.ctx.store.transaction() as repo:
            return repo.tenant(name)

    def set_mode(self, name: str, mode: Mode, actor: str) -> Tenant:
        """``Set-PolicyConfig -InformationBarrierMode`` with the rules of §1."""
        with self.ctx.tenant_tx(name, actor) as tx:
            config = tx.repo.load_config(tx.tenant)
            changed = config.set_mode(mode)
            if changed is config:
                return tx.tenant
            tx.audit("tenant.mode", before=config.mode.value, after=mode.value)
            return tx.repo.save_config(tx.tenant, changed)

    def set_people_search_restriction(self, name: str, enabled: bool, actor: str) -> Tenant:
        """``Set-PolicyConfig -InformationBarrierPeopleSearchRestriction``."""
        with self.ctx.tenant_tx(name, actor) as tx:
            config = tx.repo.load_config(tx.tenant)
            tx.audit("tenant.people_search_restriction", enabled=enabled)
            return tx.repo.save_config(tx.tenant, config.set_people_search_restriction(enabled))
