"""One transaction: the tenant registry, token lookup, and a tenant's repositories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from infobarrier.store.application_repository import ApplicationRepository
from infobarrier.store.audit_repository import AuditRepository
from infobarrier.store.barrier_repository import BarrierRepository
from infobarrier.store.changes import CHANGES_KEPT, ChangeLog
from infobarrier.store.collab_repository import CollabRepository
from infobarrier.store.directory_repository import DirectoryRepository
from infobarrier.store.exceptions_repository import ExceptionsRepository
from infobarrier.store.license_repository import LicenseRepository
from infobarrier.store.operations_catalog import OperationsCatalog
from infobarrier.store.protocols import (
    ApplicationStore,
    AuditStore,
    BarrierStore,
    ChangeStore,
    CollabStore,
    DirectoryStore,
    ExceptionStore,
    LicenseStore,
    ScimStore,
    TokenStore,
)
from infobarrier.store.records import Tenant
from infobarrier.store.scim_repository import ScimRepository
from infobarrier.store.tenant_catalog import TenantCatalog
from infobarrier.store.token_repository import TokenCatalog, TokenRepository


@dataclass(frozen=True, slots=True)
class TenantRepositories:
    """Every repository of one tenant, in one transaction, sharing one change log."""

    tenant: Tenant
    changes: ChangeStore
    directory: DirectoryStore
    barriers: BarrierStore
    licenses: LicenseStore
    applications: ApplicationStore
    audit: AuditStore
    tokens: TokenStore
    collab: CollabStore
    scim: ScimStore
    exceptions: ExceptionStore

    @classmethod
    def build(
        cls, session: Session, tenant: Tenant, audit_key: bytes, *, changes_kept: int = CHANGES_KEPT
    ) -> TenantRepositories:
        """The repositories of ``tenant`` on ``session``."""
        changes = ChangeLog(session, tenant, kept=changes_kept)
        return cls(
            tenant=tenant,
            changes=changes,
            directory=DirectoryRepository(session, tenant, changes),
            barriers=BarrierRepository(session, tenant),
            licenses=LicenseRepository(session, tenant),
            applications=ApplicationRepository(session, tenant, changes),
            audit=AuditRepository(session, tenant, audit_key),
            tokens=TokenRepository(session, tenant),
            collab=CollabRepository(session, tenant),
            scim=ScimRepository(session, tenant),
            exceptions=ExceptionsRepository(session, tenant),
        )


class Transaction:
    """What one transaction reaches: tenants, tokens by id, and one tenant's data."""

    __slots__ = ("_audit_key", "changes_kept", "operations", "session", "tenants", "tokens")

    def __init__(
        self, session: Session, audit_key: bytes, *, changes_kept: int = CHANGES_KEPT
    ) -> None:
        self._audit_key = audit_key
        #: The ORM session (tests and bulk loaders only; use cases go through repositories).
        self.session = session
        self.changes_kept = changes_kept
        self.tenants = TenantCatalog(session)
        self.tokens = TokenCatalog(session)
        self.operations = OperationsCatalog(session)

    def scope(self, tenant: Tenant) -> TenantRepositories:
        """The repositories of one tenant."""
        return TenantRepositories.build(
            self.session, tenant, self._audit_key, changes_kept=self.changes_kept
        )
