"""The one place where the store and the handlers are put together.

Adapters build a :class:`Services` with :func:`build` and call its handlers. Each handler
(and the modules behind it) is built on first use: a command-line process that answers one
check imports the decision path, not every use case (start-up is most of a small
command's time).
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING

from infobarrier.core import decisions
from infobarrier.service.context import Clock, Context
from infobarrier.service.epochs import EpochProvider
from infobarrier.service.settings import Settings, load
from infobarrier.store.database import Store

if TYPE_CHECKING:
    from infobarrier.service.application import ApplicationHandler
    from infobarrier.service.audit import AuditHandler
    from infobarrier.service.barriers import BarrierHandler
    from infobarrier.service.collaboration import CollaborationHandler
    from infobarrier.service.decisions import DecisionHandler
    from infobarrier.service.directory import DirectoryHandler
    from infobarrier.service.exceptions import ExceptionHandler
    from infobarrier.service.feed import ChangeFeed
    from infobarrier.service.interchange import InterchangeHandler
    from infobarrier.service.listing import ListingHandler
    from infobarrier.service.operations import OperationsReader
    from infobarrier.service.people import PeopleReader
    from infobarrier.service.provisioning import ProvisioningHandler
    from infobarrier.service.tenants import TenantHandler
    from infobarrier.service.tokens import TokenHandler
    from infobarrier.service.vendors import VendorHandler


class Services:
    """Every use case of infobarrier, over one store (each handler built on first use)."""

    def __init__(self, settings: Settings, store: Store, ctx: Context) -> None:
        self.settings = settings
        self.store = store
        self.ctx = ctx
        self.epochs = EpochProvider(
            patch_limit=settings.patch_limit, overlay_limit=settings.overlay_limit, store=store
        )

    #: Every handler, in an order that builds each one's dependencies first.
    HANDLERS = (
        "tenants",
        "collaboration",
        "directory",
        "barriers",
        "applications",
        "decisions",
        "interchange",
        "audit",
        "tokens",
        "feed",
        "provisioning",
        "exceptions",
        "operations",
        "vendors",
        "people",
        "listing",
    )

    def build_all(self) -> Services:
        """Build every handler now: a server does, before its threads share them (a first
        use from two threads at once would otherwise build two of one handler)."""
        for name in self.HANDLERS:
            getattr(self, name)
        return self

    @cached_property
    def tenants(self) -> TenantHandler:
        """Tenants: create, list, modes."""
        from infobarrier.service.tenants import TenantHandler

        return TenantHandler(self.ctx)

    @cached_property
    def directory(self) -> DirectoryHandler:
        """Users, groups, licenses."""
        from infobarrier.service.directory import DirectoryHandler

        return DirectoryHandler(self.ctx, after_change=self.collaboration.reconcile_now)

    @cached_property
    def barriers(self) -> BarrierHandler:
        """Segments and policies."""
        from infobarrier.service.barriers import BarrierHandler

        return BarrierHandler(self.ctx, self.epochs)

    @cached_property
    def applications(self) -> ApplicationHandler:
        """Apply, what-if, application status."""
        from infobarrier.service.application import ApplicationHandler

        return ApplicationHandler(self.ctx, self.epochs, list_limit=self.settings.whatif_list_limit)

    @cached_property
    def decisions(self) -> DecisionHandler:
        """Checks, recipients, the matrix."""
        from infobarrier.service.decisions import DecisionHandler

        return DecisionHandler(self.ctx, self.epochs)

    @cached_property
    def interchange(self) -> InterchangeHandler:
        """PowerShell import and export."""
        from infobarrier.service.interchange import InterchangeHandler

        return InterchangeHandler(self.ctx, self.applications)

    @cached_property
    def audit(self) -> AuditHandler:
        """The audit log."""
        from infobarrier.service.audit import AuditHandler

        return AuditHandler(self.ctx)

    @cached_property
    def tokens(self) -> TokenHandler:
        """API tokens."""
        from infobarrier.service.tokens import TokenHandler

        return TokenHandler(self.ctx, trust_seconds=self.settings.token_trust_seconds)

    @cached_property
    def collaboration(self) -> CollaborationHandler:
        """Chats, teams, meetings, calls and their reconciliation."""
        from infobarrier.service.collaboration import CollaborationHandler

        return CollaborationHandler(self.ctx, self.epochs)

    @cached_property
    def feed(self) -> ChangeFeed:
        """A server's view of changes made by other processes."""
        from infobarrier.service.feed import ChangeFeed

        return ChangeFeed(self.ctx, self.epochs, poll_seconds=self.settings.feed_poll_seconds)

    @cached_property
    def provisioning(self) -> ProvisioningHandler:
        """SCIM provisioning."""
        from infobarrier.service.provisioning import ProvisioningHandler

        return ProvisioningHandler(self.ctx, after_change=self.collaboration.reconcile_now)

    @cached_property
    def exceptions(self) -> ExceptionHandler:
        """Wall-crossing exceptions (semantics §11)."""
        from infobarrier.service.exceptions import ExceptionHandler

        return ExceptionHandler(self.ctx, self.epochs)

    @cached_property
    def operations(self) -> OperationsReader:
        """Operational figures."""
        from infobarrier.service.operations import OperationsReader

        return OperationsReader(self.ctx, self.epochs)

    @cached_property
    def vendors(self) -> VendorHandler:
        """Vendor service accounts."""
        from infobarrier.service.vendors import VendorHandler

        return VendorHandler(self.ctx, self.epochs, self.applications)

    @cached_property
    def people(self) -> PeopleReader:
        """A person's view (semantics §12)."""
        from infobarrier.service.people import PeopleReader

        return PeopleReader(self.decisions)

    @cached_property
    def listing(self) -> ListingHandler:
        """Paged listings."""
        from infobarrier.service.listing import ListingHandler

        return ListingHandler(self.ctx)


def build(
    db_url: str | None = None, *, settings: Settings | None = None, clock: Clock | None = None
) -> Services:
    """Open (and migrate) the store and wire the handlers with the settings (from the
    environment unless given; ``db_url`` overrides the database; ``clock``: tests' own
    time)."""
    if settings is None:
        settings = load(db=db_url)
    elif db_url is not None:
        settings = dataclasses.replace(settings, db=db_url)
    decisions.EXPLANATIONS.limit = settings.explanations_kept
    store = Store(
        settings.db,
        lock_seconds=settings.sqlite_timeout_seconds,
        changes_kept=settings.changes_kept,
    )
    ctx = Context(store) if clock is None else Context(store, clock)
    return Services(settings, store, ctx)
