"""Tokens and roles over every tenant route of the OpenAPI document (docs/interfaces.md).

No token: 401; an unknown or revoked token: 401; another tenant's token: 404, as if the
tenant did not exist; a role that may not use the route: 403. Roles: ``admin`` everything,
``auditor`` every GET, ``enforcer`` decisions, relationship, search, version, the
collaboration objects (every method) and recording enforcement events (``POST
.../audit/events``), ``provisioner`` SCIM only (nothing under ``/v1/tenants/{tenant}/``),
``compliance`` every GET and the wall-crossing exceptions (every method), never segments,
policies or the tenant's exception settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services, build
from live_server import AppClient, make_tokens

PREFIX = "/v1/tenants/{tenant}/"
ENFORCER_AREAS = {
    "decisions",
    "relationship",
    "search",
    "version",
    "teams",
    "chats",
    "meetings",
    "calls",
}
#: Routes outside the enforcer's areas that an enforcer may use.
ENFORCER_ROUTES = {("POST", PREFIX + "audit/events")}
ROLES = ("admin", "auditor", "enforcer", "provisioner", "compliance")

#: Plausible values for path parameters (made up: a 404 is an allowed answer).
PATH_VALUES = {
    "upn": "nobody@abc.example",
    "group": "NoSuchGroup",
    "part": "SPE_E5",
    "sku": "SPE_E5",
    "name": "NoSuchName",
    "application_id": "00000000-0000-4000-8000-000000000000",
    "team_id": "00000000-0000-4000-8000-000000000001",
    "chat_id": "00000000-0000-4000-8000-000000000002",
    "meeting_id": "00000000-0000-4000-8000-000000000003",
    "call_id": "00000000-0000-4000-8000-000000000004",
    "exception_id": "00000000-0000-4000-8000-000000000005",
    "token_id": "0000000000000000",
}


def tenant_routes(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation under ``/v1/tenants/{tenant}/``."""
    return [
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        if path.startswith(PREFIX)
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


# The OpenAPI document needs no store: build it once, at collection, to parametrize over.
ROUTES = tenant_routes(create_app(cast(Services, None)).openapi())


def expected_allowed(role: str, method: str, path: str) -> bool:
    """The role rules of docs/interfaces.md."""
    area = path[len(PREFIX) :].split("/", 1)[0]
    if role == "admin":
        return True
    if role == "auditor":
        return method == "GET"
    if role == "enforcer":
        return area in ENFORCER_AREAS or (method, path) in ENFORCER_ROUTES
    if role == "compliance":
        return method == "GET" or area == "exceptions"
    return False  # provisioner: SCIM only


def url_of(path: str, tenant: str = "abc") -> str:
    """The template with ``tenant`` and made-up values for the other path parameters."""
    return path.format(tenant=tenant, **PATH_VALUES)


def call(
    client: AppClient, method: str, path: str, headers: dict[str, str], tenant: str = "abc"
) -> httpx.Response:
    """One request; bodies are ``{}`` (a 422 for the allowed is fine). Applications are
    previewed (``what_if``) so that no background apply outlives the test."""
    params = {"what_if": "true"} if path.endswith("/applications") and method == "POST" else None
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.http.request(
        method, url_of(path, tenant), headers=headers, json=body, params=params
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """``status`` with a JSON ``{"code", "message"}`` body."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code}: {response.text}"
    )
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("code"), str), body
    assert body["code"], body
    assert isinstance(body.get("message"), str), body
    assert body["message"], body
    if code is not None:
        assert body["code"] == code, body


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppClient]:
    """One app for the whole table (every path value is made up and every body empty, so no
    request of the table changes anything)."""
    services = build(f"sqlite:///{tmp_path_factory.mktemp('roles') / 'roles.db'}")
    tokens = make_tokens(services, ["abc", "other"])
    record, plain = services.tokens.create("abc", Role.ADMIN, "test")
    services.tokens.revoke(record.id, "test")
    tokens[("abc", "revoked")] = plain
    with TestClient(create_app(services)) as http:
        yield AppClient(services, http, tokens)
    services.store.dispose()


def test_the_table_covers_the_api(app_client: AppClient) -> None:
    assert tenant_routes(app_client.http.app.openapi()) == ROUTES  # type: ignore[attr-defined]
    assert len(ROUTES) >= 60
    areas = {p[len(PREFIX) :].split("/", 1)[0] for _, p in ROUTES}
    assert areas >= ENFORCER_AREAS
    assert {"users", "groups", "skus", "segments", "policies", "applications", "audit"} <= areas
    assert {"exceptions", "exception-settings"} <= areas


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_authentication_and_roles(shared: AppClient, method: str, path: str) -> None:
    app_client = shared

    # No token, a malformed one, a forged one (a known id, a wrong secret): 401.
    response = call(app_client, method, path, {})
    assert_error(response, 401, "unauthenticated")
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert_error(call(app_client, method, path, {"Authorization": "Bearer garbage"}), 401)
    admin = app_client.tokens[("abc", "admin")]
    forged = admin[:-4] + ("AAAA" if not admin.endswith("AAAA") else "BBBB")
    assert_error(call(app_client, method, path, {"Authorization": f"Bearer {forged}"}), 401)

    # A revoked admin token: 401.
    revoked = app_client.headers("abc", "revoked")
    assert_error(call(app_client, method, path, revoked), 401, "invalid_token")

    # Tenant ``other``'s tokens on tenant ``abc``: 404, as for a tenant that does not exist.
    for role in ("admin", "enforcer"):
        assert_error(
            call(app_client, method, path, app_client.headers("other", role)), 404, "not_found"
        )
    assert_error(
        call(app_client, method, path, app_client.headers("abc", "admin"), tenant="nosuch"), 404
    )

    # Each role of ``abc``: allowed (anything but 401/403, never a 5xx) or 403.
    for role in ROLES:
        response = call(app_client, method, path, app_client.headers("abc", role))
        if expected_allowed(role, method, path):
            assert response.status_code not in (401, 403), (
                f"{role} should be allowed {method} {path}: {response.status_code} {response.text}"
            )
            assert response.status_code < 500, f"{role}: {response.status_code} {response.text}"
        else:
            assert_error(response, 403, "forbidden")


def test_revoked_token_stops_working_at_once(app_client: AppClient) -> None:
    services = app_client.services
    record, plain = services.tokens.create("abc", Role.AUDITOR, "test")
    headers = {"Authorization": f"Bearer {plain}"}
    assert app_client.http.get("/v1/tenants/abc/users", headers=headers).status_code == 200
    services.tokens.revoke(record.id, "test")
    assert_error(app_client.http.get("/v1/tenants/abc/users", headers=headers), 401)
    # The other tokens keep working.
    ok = app_client.http.get("/v1/tenants/abc/users", headers=app_client.headers("abc", "auditor"))
    assert ok.status_code == 200
    # The revocation is audited.
    entries = app_client.http.get(
        "/v1/tenants/abc/audit",
        params={"kind": "token.revoked"},
        headers=app_client.headers("abc", "admin"),
    ).json()
    assert [e["detail"]["token"] for e in entries] == [record.id]
