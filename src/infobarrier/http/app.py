"""The FastAPI application: routers, error handlers, the services it serves."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from infobarrier import __version__, web
from infobarrier.core import answers
from infobarrier.http import errors, schemas
from infobarrier.http.guard import RequestGuard
from infobarrier.http.metrics import CONTENT_TYPE, Metrics
from infobarrier.http.observe import Observe
from infobarrier.http.routes import (
    admin,
    audit,
    authzen,
    barriers,
    collaboration,
    decisions,
    directory,
    exceptions,
    insight,
    people,
    vendors,
)
from infobarrier.scim import routes as scim_routes
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import Services, build


def create_app(services: Services, *, feed: bool = False) -> FastAPI:
    """An app over the given services (tests pass their own).

    ``feed=True`` (what ``serve`` uses) keeps cached epochs current in the background
    while the app runs (see ``service.feed``) and expires wall-crossing exceptions whose
    window has ended (``service.exceptions``).
    """

    warmed = threading.Event()

    stopping = threading.Event()

    def warm() -> None:
        """Load every tenant's epoch in force; retried each second until it succeeds."""
        while not stopping.is_set():
            try:
                services.operations.warm()
                warmed.set()
                scim_routes.preload()  # ready first: SCIM's libraries load after that
                return
            except Exception:  # the store is away: not ready, try again
                logging.getLogger(__name__).warning("loading the epochs in force failed")
                stopping.wait(1.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.build_all()  # before threads share them
        answers.FRAGMENTS.limit = services.settings.verdict_fragments_kept
        answers.USER_FRAGMENTS.limit = services.settings.verdict_fragments_kept
        if feed:
            services.feed.start()
            services.exceptions.start_sweeping()
        threading.Thread(target=warm, name="warm-epochs", daemon=True).start()
        try:
            yield
        finally:
            stopping.set()
            if feed:
                services.exceptions.stop_sweeping()
                services.feed.stop()

    # Swagger UI (/docs) and ReDoc (/redoc) with their scripts served by the package, so the
    # API documentation works offline (FastAPI's own pages load them from a CDN).
    app = FastAPIOffline(
        static_url="/docs/static",
        lifespan=lifespan,
        title="infobarrier",
        version=__version__,
        description=(
            "Information barriers: directory, segments, policies, explained decisions and "
            "enforcement. Every route is under `/v1/tenants/{tenant}/` and takes a bearer "
            "token bound to that tenant (`infobarrier tokens create`)."
        ),
    )
    app.state.services = services

    # Outermost: authenticate and cap the body before anything reads it (http.guard).
    def verify(token: str) -> Principal | None:
        return services.tokens.verify(token)

    def limits() -> dict[str, int]:
        settings = services.settings
        return {
            "decisions": settings.body_limit_decisions,
            "groups": settings.body_limit_groups,
            "scim": settings.body_limit_scim,
            "imports": settings.body_limit_imports,
            "default": settings.body_limit_default,
        }

    def trusted(token: str) -> Principal | None:
        return services.tokens.trusted(token)

    app.add_middleware(RequestGuard, verify=verify, limits=limits, trusted=trusted)
    # Outside even that: every answer (a refusal of the guard too) echoes its request id,
    # and is counted and logged (http.observe).
    metrics = Metrics(lambda: services.operations.tenants())
    app.state.metrics = metrics
    app.add_middleware(Observe, metrics=metrics)
    errors.install(app)
    authzen.install(app)
    for module in (directory, barriers, decisions, collaboration, exceptions, audit, admin):
        app.include_router(module.router)
    app.include_router(insight.router)
    app.include_router(people.router)
    app.include_router(vendors.router)
    app.include_router(scim_routes.router)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """The generated document, plus the models of bodies validated by hand."""
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in schemas.request_models_schemas().items():
                components.setdefault(name, schema)
            for name, schema in authzen.openapi_components().items():
                components.setdefault(name, schema)
        return app.openapi_schema or document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str | int]:
        """Liveness: the process answers (``worker``: its process id, under ``--workers``)."""
        return {"status": "ok", "worker": os.getpid()}

    @app.get(
        "/readyz",
        tags=["service"],
        responses={503: {"description": "Not ready: epochs still loading"}},
    )
    def readyz(response: Response) -> dict[str, Any]:
        """Readiness: 503 until every tenant's epoch in force (as of start-up) is loaded in
        this process, so decisions answer without compiling; then 200. ``not_loaded``
        names tenants created since, which load on their first request."""
        if not warmed.is_set():
            response.status_code = 503
            return {"status": "loading", "worker": os.getpid()}
        try:
            _ready, missing = services.operations.ready()
        except Exception as exc:  # the store cannot be read: decisions cannot be answered
            response.status_code = 503
            return {"status": "unavailable", "reason": type(exc).__name__, "worker": os.getpid()}
        return {"status": "ready", "not_loaded": missing, "worker": os.getpid()}

    @app.get(
        "/metrics",
        tags=["service"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}},
    )
    def prometheus(request: Request) -> Response:
        """Counters, latency histograms and per-tenant state in the Prometheus text format."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    web.install(app)
    return app


#: Where ``app_from_environment`` finds the database URL (the setting ``db``).
DB_VARIABLE = "INFOBARRIER_DB"


def app_from_environment() -> FastAPI:
    """The app of one ``serve --workers N`` process: its own services from the settings in
    the environment (``INFOBARRIER_*``), with the change feed (each worker is a replica)."""
    return create_app(build(), feed=True)
