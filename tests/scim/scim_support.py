"""Helpers of the SCIM tests: a SCIM caller, a barrier to move, a real server, a SCIM client."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from scim2_client import BaseSyncSCIMClient
from scim2_models import ScimProvider

from infobarrier.core.barriers import PolicyState
from infobarrier.core.contract import Verdict, make_check
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import Services

ADMIN = "test"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
INFOBARRIER = "urn:ietf:params:scim:schemas:extension:infobarrier:2.0:User"
SCIM_JSON = "application/scim+json"


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


def build_wall(services: Services, tenant: str, domain: str) -> None:
    """A research wall, applied: Research and the Deal Team may not talk, nor Research and Sales.

    People already in the directory: ``rita`` (Research), ``sam`` (Sales) and ``ivan``
    (no department: unsegmented). Segments are exclusive, so that a deal-team member in
    Research is in the Deal Team segment only (SingleSegment mode).
    """
    services.directory.put_users(
        tenant,
        [
            make_user(f"rita@{domain}", display_name="Rita Research", Department="Research"),
            make_user(f"sam@{domain}", display_name="Sam Sales", Department="Sales"),
            make_user(f"ivan@{domain}", display_name="Ivan Independent"),
        ],
        ADMIN,
    )
    barriers = services.barriers
    barriers.new_segment(
        tenant, "Research", "Department -eq 'Research' -and -not MemberOf -eq 'Deal Team'", ADMIN
    )
    barriers.new_segment(
        tenant, "Sales", "Department -eq 'Sales' -and -not MemberOf -eq 'Deal Team'", ADMIN
    )
    barriers.new_segment(tenant, "Deal Team", "MemberOf -eq 'Deal Team'", ADMIN)
    barriers.new_policy(
        tenant,
        "Research wall",
        "Research",
        ADMIN,
        blocked=["Sales", "Deal Team"],
        state=PolicyState.ACTIVE,
    )
    barriers.new_policy(
        tenant, "Deal Team wall", "Deal Team", ADMIN, blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply(tenant, ADMIN)


def chat(services: Services, tenant: str, a: str, b: str) -> Verdict:
    """The barrier's verdict on a 1:1 chat between two users."""
    return services.decisions.check(tenant, make_check("chat", a, [b]))


def segments_of(services: Services, tenant: str, upn: str) -> list[str]:
    """The segments a user is in now."""
    return services.decisions.recipient(tenant, upn).segments


# -- a real server --------------------------------------------------------------------------
def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this module started."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# -- scim2-client over httpx ------------------------------------------------------------------
class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client's synchronous client over an ``httpx.Client`` (its own engine wants httpx2)."""

    def __init__(self, client: httpx.Client, provider: ScimProvider | None = None) -> None:
        super().__init__(provider=provider)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        try:
            url = self.client.build_request("GET", endpoint).url
        except httpx.InvalidURL:
            return False
        return (
            url.scheme == base.scheme
            and url.host == base.host
            and (url.port == base.port and url.raw_path.startswith(base.raw_path))
        )

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, **kwargs)
