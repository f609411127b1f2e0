"""The one place where the store and the handlers are put together.

Adapters build a :class:`Services` with :func:`build` and call its handlers.
"""

from __future__ import annotations

from dataclasses import dataclass

from infobarrier.service.application import ApplicationHandler
from infobarrier.service.audit import AuditHandler
from infobarrier.service.barriers import BarrierHandler
from infobarrier.service.collaboration import CollaborationHandler
from infobarrier.service.context import Clock, Context
from infobarrier.service.decisions import DecisionHandler
from infobarrier.service.directory import DirectoryHandler
from infobarrier.service.epochs import EpochProvider
from infobarrier.service.exceptions import ExceptionHandler
from infobarrier.service.feed import ChangeFeed
from infobarrier.service.interchange import InterchangeHandler
from infobarrier.service.operations import OperationsReader
from infobarrier.service.provisioning import ProvisioningHandler
from infobarrier.service.tenants import TenantHandler
from infobarrier.service.tokens import TokenHandler
from infobarrier.store.database import Store

DEFAULT_DB = "sqlite:///infobarrier.db"


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case of infobarrier, over one store."""

    store: Store
    tenants: TenantHandler
    directory: DirectoryHandler
    barriers: BarrierHandler
    applications: ApplicationHandler
    decisions: DecisionHandler
    interchange: InterchangeHandler
    audit: AuditHandler
    tokens: TokenHandler
    collaboration: CollaborationHandler
    feed: ChangeFeed
    provisioning: ProvisioningHandler
    exceptions: ExceptionHandler
    operations: OperationsReader


def build(db_url: str = DEFAULT_DB, *, clock: Clock | None = None) -> Services:
    """Open (and migrate) the store and wire the handlers (``clock``: tests' own time)."""
    store = Store(db_url)
    ctx = Context(store) if clock is None else Context(store, clock)
    epochs = EpochProvider()
    applications = ApplicationHandler(ctx, epochs)
    collaboration = CollaborationHandler(ctx, epochs)
    return Services(
        store=store,
        tenants=TenantHandler(ctx),
        directory=DirectoryHandler(ctx, after_change=collaboration.reconcile_now),
        barriers=BarrierHandler(ctx),
        applications=applications,
        decisions=DecisionHandler(ctx, epochs),
        interchange=InterchangeHandler(ctx, applications),
        audit=AuditHandler(ctx),
        tokens=TokenHandler(ctx),
        collaboration=collaboration,
        feed=ChangeFeed(ctx, epochs),
        provisioning=ProvisioningHandler(ctx, after_change=collaboration.reconcile_now),
        exceptions=ExceptionHandler(ctx, epochs),
        operations=OperationsReader(ctx, epochs),
    )
