"""The one place where the store and the handlers are put together.

Adapters build a :class:`Services` with :func:`build` and call its handlers.
"""

from __future__ import annotations

from dataclasses import dataclass

from infobarrier.core import decisions
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
from infobarrier.service.listing import ListingHandler
from infobarrier.service.operations import OperationsReader
from infobarrier.service.people import PeopleReader
from infobarrier.service.provisioning import ProvisioningHandler
from infobarrier.service.settings import Settings, load
from infobarrier.service.tenants import TenantHandler
from infobarrier.service.tokens import TokenHandler
from infobarrier.service.vendors import VendorHandler
from infobarrier.store.database import Store


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case of infobarrier, over one store."""

    settings: Settings
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
    listing: ListingHandler
    operations: OperationsReader
    vendors: VendorHandler
    people: PeopleReader


def build(
    db_url: str | None = None, *, settings: Settings | None = None, clock: Clock | None = None
) -> Services:
    """Open (and migrate) the store and wire the handlers with the settings (from the
    environment unless given; ``db_url`` overrides the database; ``clock``: tests' own
    time)."""
    if settings is None:
        settings = load(db=db_url)
    elif db_url is not None:
        settings = settings.model_copy(update={"db": db_url})
    decisions.EXPLANATIONS.limit = settings.explanations_kept
    store = Store(
        settings.db,
        lock_seconds=settings.sqlite_timeout_seconds,
        changes_kept=settings.changes_kept,
    )
    ctx = Context(store) if clock is None else Context(store, clock)
    epochs = EpochProvider(
        patch_limit=settings.patch_limit, overlay_limit=settings.overlay_limit, store=store
    )
    applications = ApplicationHandler(ctx, epochs, list_limit=settings.whatif_list_limit)
    collaboration = CollaborationHandler(ctx, epochs)
    decision_handler = DecisionHandler(ctx, epochs)
    return Services(
        settings=settings,
        store=store,
        tenants=TenantHandler(ctx),
        directory=DirectoryHandler(ctx, after_change=collaboration.reconcile_now),
        barriers=BarrierHandler(ctx, epochs),
        applications=applications,
        decisions=decision_handler,
        interchange=InterchangeHandler(ctx, applications),
        audit=AuditHandler(ctx),
        tokens=TokenHandler(ctx, trust_seconds=settings.token_trust_seconds),
        collaboration=collaboration,
        feed=ChangeFeed(ctx, epochs, poll_seconds=settings.feed_poll_seconds),
        provisioning=ProvisioningHandler(ctx, after_change=collaboration.reconcile_now),
        exceptions=ExceptionHandler(ctx, epochs),
        operations=OperationsReader(ctx, epochs),
        vendors=VendorHandler(ctx, epochs, applications),
        people=PeopleReader(decision_handler),
        listing=ListingHandler(ctx),
    )
