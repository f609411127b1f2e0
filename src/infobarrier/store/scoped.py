"""The base of every tenant-scoped repository: one session, one tenant, fixed at birth."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infobarrier.store.records import Tenant


class TenantScoped:
    """Reads and writes of one tenant in one transaction.

    The tenant is fixed when the repository is built and every statement filters on its
    id: no method takes a tenant, so no caller can reach another tenant's rows.
    """

    __slots__ = ("_session", "_tenant", "_tid")

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self._session = session
        self._tenant = tenant
        self._tid = tenant.id

    @property
    def tenant(self) -> Tenant:
        """The tenant this repository serves."""
        return self._tenant
