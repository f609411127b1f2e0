"""The FastAPI application: routers, error handlers, the services it serves."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from infobarrier import __version__, web
from infobarrier.http import errors, schemas
from infobarrier.http.guard import RequestGuard
from infobarrier.http.routes import (
    audit,
    barriers,
    collaboration,
    decisions,
    directory,
    exceptions,
    insight,
)
from infobarrier.scim import routes as scim_routes
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import DEFAULT_DB, Services, build


def create_app(services: Services, *, feed: bool = False) -> FastAPI:
    """An app over the given services (tests pass their own).

    ``feed=True`` (what ``serve`` uses) keeps cached epochs current in the background
    while the app runs (see ``service.feed``) and expires wall-crossing exceptions whose
    window has ended (``service.exceptions``).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if feed:
            services.feed.start()
            services.exceptions.start_sweeping()
        try:
            yield
        finally:
            if feed:
                services.exceptions.stop_sweeping()
                services.feed.stop()

    app = FastAPI(
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

    app.add_middleware(RequestGuard, verify=verify)
    errors.install(app)
    for module in (directory, barriers, decisions, collaboration, exceptions, audit):
        app.include_router(module.router)
    app.include_router(insight.router)
    app.include_router(scim_routes.router)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """The generated document, plus the models of bodies validated by hand."""
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in schemas.request_models_schemas().items():
                components.setdefault(name, schema)
        return app.openapi_schema or document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str | int]:
        """Liveness: the process answers (``worker``: its process id, under ``--workers``)."""
        return {"status": "ok", "worker": os.getpid()}

    web.install(app)
    return app


#: Where ``app_from_environment`` finds the database URL (the CLI's ``--db`` variable).
DB_VARIABLE = "INFOBARRIER_DB"


def app_from_environment() -> FastAPI:
    """The app of one ``serve --workers N`` process: its own services over the database
    named by ``INFOBARRIER_DB``, with the change feed (each worker is a replica)."""
    return create_app(build(os.environ.get(DB_VARIABLE, DEFAULT_DB)), feed=True)
