"""A real ``infobarrier serve`` (uvicorn) on a free port, and an in-process client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from infobarrier.core.barriers import Mode
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services, build


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running server, its database, and tokens by (tenant, role)."""

    base: str
    db_url: str
    tokens: dict[tuple[str, str], str]
    process: subprocess.Popen[bytes]

    def client(self, tenant: str, role: str) -> httpx.Client:
        """An HTTP client authenticated as ``role`` of ``tenant``, rooted at the tenant."""
        return httpx.Client(
            base_url=f"{self.base}/v1/tenants/{tenant}",
            headers={"Authorization": f"Bearer {self.tokens[(tenant, role)]}"},
            timeout=30,
        )


def start_server(db_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``infobarrier serve`` and wait until it answers."""
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infobarrier.cli.main",
            "--db",
            db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def make_tokens(services: Services, tenants: list[str]) -> dict[tuple[str, str], str]:
    """Create the tenants (if new) and one token per role for each."""
    tokens: dict[tuple[str, str], str] = {}
    existing = {t.name for t in services.tenants.list()}
    for tenant in tenants:
        if tenant not in existing:
            services.tenants.create(tenant, Mode.SINGLE_SEGMENT, "test")
        for role in Role:
            _record, plain = services.tokens.create(tenant, role, "test")
            tokens[(tenant, role.value)] = plain
    return tokens


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
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class AppClient:
    """The app in-process, with the services behind it and tokens by (tenant, role)."""

    services: Services
    http: TestClient
    tokens: dict[tuple[str, str], str]

    def headers(self, tenant: str, role: str) -> dict[str, str]:
        """The Authorization header of a role of a tenant."""
        return {"Authorization": f"Bearer {self.tokens[(tenant, role)]}"}


@pytest.fixture
def app_client(services: Services) -> Iterator[AppClient]:
    """The app over a fresh store, tenants ``abc`` and ``other`` with a token per role."""
    tokens = make_tokens(services, ["abc", "other"])
    with TestClient(create_app(services)) as http:
        yield AppClient(services, http, tokens)
