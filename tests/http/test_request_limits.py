"""Requests that would stall the server are refused early (docs/security.md, "Limits").

Authentication comes before the body is read (a request without a valid token is a 401
whatever its body), bodies are capped per route (413 naming the cap), a group check is
bounded in pairs (413 naming the bound), and deeply nested JSON is a 400, never a 500.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from infobarrier.core.limits import MAX_JSON_DEPTH, MAX_PAIRS_PER_REQUEST
from infobarrier.http.app import create_app
from infobarrier.http.guard import BODY_LIMITS, body_limit
from infobarrier.service.settings import Settings
from infobarrier.service.wiring import build
from live_server import AppClient, make_tokens

SCIM_JSON = "application/scim+json"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def post(
    client: AppClient, path: str, body: bytes, token: str | None, kind: str = "application/json"
) -> httpx.Response:
    headers = {"Content-Type": kind}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.http.post(path, content=body, headers=headers)


def users_of(client: AppClient) -> list[str]:
    return sorted(u.upn for u in client.services.directory.directory("abc").users())


# -- authentication before the body ------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "ib_0000_not-a-token", "garbage"])
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v1/tenants/abc/users", "application/json"),
        ("/v1/tenants/abc/decisions", "application/json"),
        ("/scim/v2/abc/Users", SCIM_JSON),
    ],
)
def test_no_valid_token_is_401_before_the_body_counts(
    app_client: AppClient, token: str | None, path: str, kind: str
) -> None:
    """Malformed JSON, or a body over every cap, without a valid token: 401, not 422/413."""
    for body in (b"{not json", b"[" * 100_000, b"x" * (BODY_LIMITS["decisions"] + 1)):
        response = post(app_client, path, body, token, kind)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
    assert users_of(app_client) == []


def test_a_valid_token_with_malformed_json_is_still_422(app_client: AppClient) -> None:
    token = app_client.tokens[("abc", "admin")]
    response = post(app_client, "/v1/tenants/abc/users", b"{not json", token)
    assert response.status_code == 422, response.text


# -- body caps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/v1/tenants/abc/users", BODY_LIMITS["default"]),
        ("/v1/tenants/abc/groups", BODY_LIMITS["groups"]),
        ("/v1/tenants/abc/decisions", BODY_LIMITS["decisions"]),
        ("/scim/v2/abc/Users", BODY_LIMITS["scim"]),
        ("/v1/tenants/abc/audit/events", BODY_LIMITS["events"]),
    ],
)
def test_a_body_over_the_route_cap_is_413_naming_the_cap(
    app_client: AppClient, path: str, limit: int
) -> None:
    assert body_limit(path) == limit
    token = app_client.tokens[("abc", "admin")]
    body = json.dumps({"upn": "big@abc.example", "display_name": "x" * limit}).encode()
    response = post(app_client, path, body, token)
    assert response.status_code == 413, response.text
    assert str(limit) in response.text
    assert users_of(app_client) == []


def test_a_streamed_body_is_counted_as_it_arrives(app_client: AppClient) -> None:
    """No Content-Length (chunked): refused once the bytes pass the cap, not read to the end."""
    app = create_app(app_client.services)
    token = app_client.tokens[("abc", "admin")].encode()
    chunk = b"x" * 65_536
    limit = BODY_LIMITS["default"]
    sent_chunks = 0
    answers: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_chunks
        sent_chunks += 1
        return {"type": "http.request", "body": chunk, "more_body": True}  # never ends

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/tenants/abc/users",
        "raw_path": b"/v1/tenants/abc/users",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", b"Bearer " + token), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert answers[0]["status"] == 413
    assert str(limit) in answers[1]["body"].decode()
    assert sent_chunks == limit // len(chunk) + 1


# -- group checks -----------------------------------------------------------------------------


def test_a_group_check_over_the_pair_bound_is_413(app_client: AppClient) -> None:
    """1,500 recipients of a group chat are 1,125,750 pairs: refused before any is built."""
    token = app_client.tokens[("abc", "enforcer")]
    to = [f"u{i}@abc.example" for i in range(1_500)]
    body = json.dumps({"checks": [{"action": "group-chat", "from": "s@abc.example", "to": to}]})
    response = post(app_client, "/v1/tenants/abc/decisions", body.encode(), token)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"
    assert str(MAX_PAIRS_PER_REQUEST) in response.json()["message"]
    # The bound is per request: many checks that are small each add up.
    check = {"action": "meeting-invite", "from": "s@abc.example", "to": to[:45]}
    many = json.dumps({"checks": [check] * 1_000}).encode()  # 1,000 x 1,035 pairs
    assert post(app_client, "/v1/tenants/abc/decisions", many, token).status_code == 413
    fewer = json.dumps({"checks": [check] * 900}).encode()  # 931,500 pairs: answered
    answered = post(app_client, "/v1/tenants/abc/decisions", fewer, token)
    assert answered.status_code == 200, answered.text
    assert answered.json()["results"][0]["error"]["code"] == "unknown_user"


# -- NUL ----------------------------------------------------------------------------------------


def test_nul_in_a_path_query_or_json_string_is_400(app_client: AppClient) -> None:
    """No database stores NUL (PostgreSQL refuses it): refused before any handler runs."""
    token = app_client.tokens[("abc", "admin")]
    headers = {"Authorization": f"Bearer {token}"}
    for response in (
        app_client.http.get("/v1/tenants/abc/users/a%00b@abc.example", headers=headers),
        app_client.http.get("/v1/tenants/abc/search?q=a%00&as=x@abc.example", headers=headers),
        post(app_client, "/v1/tenants/abc/users", b'{"upn": "a\\u0000b@abc.example"}', token),
        post(app_client, "/v1/tenants/abc/groups", b'{"display_name": "G\\u0000"}', token),
    ):
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["message"]
    # An escaped backslash before "u0000" is the text \u0000, not NUL: accepted.
    body = b'{"upn": "t@abc.example", "display_name": "back\\\\u0000slash"}'
    created = post(app_client, "/v1/tenants/abc/users", body, token)
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "back\\u0000slash"
    scim = app_client.http.post(
        "/scim/v2/abc/Users",
        content=b'{"schemas": ["' + CORE_USER.encode() + b'"], "userName": "n\\u0000@abc.example"}',
        headers={
            "Authorization": f"Bearer {app_client.tokens[('abc', 'provisioner')]}",
            "Content-Type": SCIM_JSON,
        },
    )
    assert scim.status_code == 400, scim.text
    assert "NUL" in scim.json()["detail"]
    assert users_of(app_client) == ["t@abc.example"]


# -- nesting ------------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_deeply_nested_scim_json_is_400(app_client: AppClient, depth: int) -> None:
    token = app_client.tokens[("abc", "provisioner")]
    body = (
        b'{"schemas": ["' + CORE_USER.encode() + b'"], "userName": "n@abc.example", '
        b'"emails": ' + nested(depth) + b"}"
    )
    for method, path in (("POST", "Users"), ("PUT", "Users/x"), ("PATCH", "Users/x")):
        response = app_client.http.request(
            method,
            f"/scim/v2/abc/{path}",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON},
        )
        assert response.status_code == 400, response.text
        assert f"deeper than {MAX_JSON_DEPTH}" in response.json()["detail"]
    assert users_of(app_client) == []


def test_deeply_nested_api_json_is_400(app_client: AppClient) -> None:
    token = app_client.tokens[("abc", "admin")]
    body = b'{"upn": "n@abc.example", "attributes": ' + nested(200_000) + b"}"
    response = post(app_client, "/v1/tenants/abc/users", body, token)
    assert response.status_code in (400, 422), response.text
    assert users_of(app_client) == []


def test_the_pair_bound_is_a_setting(tmp_path: Any) -> None:
    """``INFOBARRIER_MAX_PAIRS`` (docs/settings.md) bounds the pairs of one request."""
    services = build(f"sqlite:///{tmp_path / 'pairs.db'}", settings=Settings(max_pairs=10))
    tokens = make_tokens(services, ["abc"])
    try:
        with TestClient(create_app(services)) as http:
            headers = {"Authorization": f"Bearer {tokens[('abc', 'enforcer')]}"}
            to = [f"u{i}@abc.example" for i in range(4)]  # 4 + 6 = 10 pairs: read
            check = {"action": "group-chat", "from": "s@abc.example", "to": to}
            url = "/v1/tenants/abc/decisions"
            assert http.post(url, json={"checks": [check]}, headers=headers).status_code == 200
            check["to"] = [*to, "u4@abc.example"]  # 5 + 10 = 15 pairs
            refused = http.post(url, json={"checks": [check]}, headers=headers)
            assert refused.status_code == 413, refused.text
            assert "at most 10 per request" in refused.json()["message"]
    finally:
        services.store.dispose()


def test_the_pair_bound_setting_holds_for_authzen_too(tmp_path: Any) -> None:
    """AuthZEN's evaluation, evaluations and searches read ``INFOBARRIER_MAX_PAIRS`` as
    ``POST /decisions`` does (not the default bound)."""
    services = build(f"sqlite:///{tmp_path / 'pairs.db'}", settings=Settings(max_pairs=10))
    tokens = make_tokens(services, ["abc"])
    try:
        with TestClient(create_app(services)) as http:
            headers = {"Authorization": f"Bearer {tokens[('abc', 'enforcer')]}"}
            members = [f"u{i}@abc.example" for i in range(4)]  # 4 + 6 = 10 pairs: read
            one = {
                "subject": {"type": "user", "id": "s@abc.example"},
                "action": {"name": "group-chat"},
                "resource": {"type": "conversation", "properties": {"members": members}},
            }
            assert http.post("/access/v1/evaluation", json=one, headers=headers).status_code == 200
            many = {
                **one,
                "resource": {
                    **one["resource"],
                    "properties": {"members": [*members, "u4@abc.example"]},
                },
            }
            for path, body in (
                ("/access/v1/evaluation", many),
                ("/access/v1/evaluations", {"evaluations": [many]}),
            ):
                refused = http.post(path, json=body, headers=headers)
                assert refused.status_code == 413, (path, refused.text)
                assert "at most 10 per request" in refused.text, path
            # A search answers its errors in its context (docs/authzen.md).
            searched = http.post("/access/v1/search/action", json=many, headers=headers).json()
            assert searched["context"]["error"]["code"] == "too_large"
            assert "at most 10 per request" in searched["context"]["error"]["message"]
            pair = {"subject": one["subject"], "resource": {"type": "user", "id": "u0@abc.example"}}
            plain = {"action": {"name": "chat"}, "evaluations": [pair] * 10}
            answered = http.post("/access/v1/evaluations", json=plain, headers=headers)
            assert answered.status_code == 200, answered.text
            plain["evaluations"] = [pair] * 11  # eleven one-pair questions
            refused = http.post("/access/v1/evaluations", json=plain, headers=headers)
            assert refused.status_code == 413, refused.text
    finally:
        services.store.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/tenants/abc/directory/users.csv",
        "/v1/tenants/abc/directory/groups.csv",
        "/v1/tenants/abc/powershell",
    ],
)
def test_the_page_imports_have_their_own_cap(tmp_path: Any, path: str) -> None:
    """An import over ``body_limit_imports`` is a 413 naming the cap, and changes nothing."""
    assert body_limit(path) == BODY_LIMITS["imports"] > BODY_LIMITS["default"]
    services = build(
        f"sqlite:///{tmp_path / 'imports.db'}", settings=Settings(body_limit_imports=1000)
    )
    tokens = make_tokens(services, ["abc"])
    body = "userPrincipalName\n" + "".join(f"u{i}@abc.example\n" for i in range(100))
    try:
        with TestClient(create_app(services)) as http:
            response = http.post(
                path,
                content=body,
                headers={
                    "Authorization": f"Bearer {tokens[('abc', 'admin')]}",
                    "Content-Type": "text/csv",
                },
            )
            assert response.status_code == 413, response.text
            assert "1000" in response.text
        assert list(services.directory.directory("abc").users()) == []
    finally:
        services.store.dispose()


@pytest.mark.parametrize(
    ("tenant", "role"), [("abc", "enforcer"), ("abc", "auditor"), ("other", "admin")]
)
def test_only_the_tenants_admin_gets_the_import_cap(
    app_client: AppClient, tenant: str, role: str
) -> None:
    """Any other valid token is held to the default cap on an import route (413 naming
    it), so it cannot make the server hold a file it may not import."""
    assert body_limit("/v1/tenants/abc/directory/users.csv", role=None) == BODY_LIMITS["default"]
    body = b"userPrincipalName\n" + b"x" * (BODY_LIMITS["default"] + 10)
    token = app_client.tokens[(tenant, role)]
    response = post(app_client, "/v1/tenants/abc/directory/users.csv", body, token, "text/csv")
    assert response.status_code == 413, response.text
    assert str(BODY_LIMITS["default"]) in response.text
    admin = app_client.tokens[("abc", "admin")]
    small = b"userPrincipalName\nsmall@abc.example\n"
    answer = post(app_client, "/v1/tenants/abc/directory/users.csv", small, token, "text/csv")
    # The route's own refusal, under the cap (another tenant's token is told nothing: 404).
    assert answer.status_code == (404 if tenant == "other" else 403), answer.text
    assert (
        post(
            app_client, "/v1/tenants/abc/directory/users.csv", small, admin, "text/csv"
        ).status_code
        == 200
    )
