"""Start real ``infobarrier serve`` processes (uvicorn) for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from infobarrier.core.barriers import Mode
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services


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


def stop_server(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Terminate a server (and its workers), killing it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def start_server(
    db_url: str,
    log: Path,
    *,
    workers: int = 1,
    demo: bool = False,
    timeout: float = 90,
    command: list[str] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``infobarrier serve [--workers N] [--demo]`` and wait until it answers.

    ``command`` is the ``infobarrier`` to run (default: this interpreter's package);
    ``port`` a port chosen beforehand (default: a free one). ``timeout`` is generous: a
    start takes about a second idle, but 20 s and more were seen on a machine at load 12.
    """
    port = port or free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [
            *(command or [sys.executable, "-m", "infobarrier.cli.main"]),
            "--db",
            db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(["--demo"] if demo else []),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        # Wide output: ``--demo`` prints its token on one line.
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
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


@dataclass
class AppClient:
    """The app in-process, with the services behind it and tokens by (tenant, role)."""

    services: Services
    http: TestClient
    tokens: dict[tuple[str, str], str]

    def headers(self, tenant: str, role: str) -> dict[str, str]:
        """The Authorization header of a role of a tenant."""
        return {"Authorization": f"Bearer {self.tokens[(tenant, role)]}"}
