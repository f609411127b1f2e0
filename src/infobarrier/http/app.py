"""The FastAPI application: routers, error handlers, the services it serves."""

from __future__ import annotations

from fastapi import FastAPI

from infobarrier import __version__
from infobarrier.http import errors
from infobarrier.http.routes import audit, barriers, collaboration, decisions, directory
from infobarrier.service.wiring import Services


def create_app(services: Services) -> FastAPI:
    """An app over the given services (tests pass their own)."""
    app = FastAPI(
        title="infobarrier",
        version=__version__,
        description=(
            "Information barriers: directory, segments, policies, explained decisions and "
            "enforcement. Every route is under `/v1/tenants/{tenant}/` and takes a bearer "
            "token bound to that tenant (`infobarrier tokens create`)."
        ),
    )
    app.state.services = services
    errors.install(app)
    for module in (directory, barriers, decisions, collaboration, audit):
        app.include_router(module.router)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
