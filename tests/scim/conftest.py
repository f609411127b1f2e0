"""The SCIM endpoint in-process: tenants ``contoso`` and ``fabrikam``, a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from scim_support import SCIM_JSON

from infobarrier.core.barriers import Mode
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services

TENANTS = ("contoso", "fabrikam")


@dataclass
class Scim:
    """Sends SCIM requests to ``/scim/v2/{tenant}`` as a role of a tenant (default: provisioner)."""

    services: Services
    http: TestClient
    tokens: dict[tuple[str, str], str]
    tenant: str = "contoso"

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        tenant: str | None = None,
        role: str = "provisioner",
        as_tenant: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """``as_tenant``: whose token to send (default: the tenant of the URL)."""
        url_tenant = tenant or self.tenant
        token = self.tokens[(as_tenant or url_tenant, role)]
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", SCIM_JSON)
        return self.http.request(
            method,
            f"/scim/v2/{url_tenant}/{path.lstrip('/')}",
            json=body,
            params=params,
            headers=sent,
        )

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
        """Send, insist on the status and the SCIM media type, return the JSON body."""
        response = self(method, path, body, **kw)
        assert response.status_code == status, response.text
        if status != 204:
            assert response.headers["content-type"].startswith(SCIM_JSON)
            return response.json()
        return None

    def error(self, method: str, path: str, body: Any = None, *, status: int, **kw: Any) -> Any:
        """Send, insist on a SCIM error of this status, return the error body."""
        response = self(method, path, body, **kw)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith(SCIM_JSON)
        error = response.json()
        assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert error["status"] == str(status)
        return error


@pytest.fixture
def scim(services: Services) -> Iterator[Scim]:
    """The app over a fresh store; tenants ``contoso`` and ``fabrikam``, a token per role."""
    tokens: dict[tuple[str, str], str] = {}
    for tenant in TENANTS:
        services.tenants.create(tenant, Mode.SINGLE_SEGMENT, "test")
        for role in Role:
            _record, plain = services.tokens.create(tenant, role, "test")
            tokens[(tenant, role.value)] = plain
    with TestClient(create_app(services)) as http:
        yield Scim(services, http, tokens)
