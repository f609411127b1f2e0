"""A real ``infobarrier serve`` (uvicorn) on a free port, and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infobarrier.http.app import create_app
from infobarrier.service.wiring import Services, build
from live_server import (
    AppClient,
    LiveServer,
    free_port,
    make_tokens,
    start_server,
    stop_server,
)

__all__ = ["AppClient", "LiveServer", "free_port", "make_tokens", "start_server"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server on tenants ``abc`` and ``other``, tokens for every role of each."""
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    services = build(db_url)
    tokens = make_tokens(services, ["abc", "other"])
    services.store.dispose()
    process, base = start_server(db_url, tmp_path / "server.log")
    try:
        yield LiveServer(base, db_url, tokens, process)
    finally:
        stop_server(process)


@pytest.fixture
def app_client(services: Services) -> Iterator[AppClient]:
    """The app over a fresh store, tenants ``abc`` and ``other`` with a token per role."""
    tokens = make_tokens(services, ["abc", "other"])
    with TestClient(create_app(services)) as http:
        yield AppClient(services, http, tokens)
