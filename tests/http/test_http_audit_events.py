"""``POST /v1/tenants/{tenant}/audit/events``: an enforcer records its enforcement events in
its own tenant's hash-chained audit log, and nothing else (core.enforcement)."""

from __future__ import annotations

from typing import Any

from infobarrier.core.enforcement import MAX_DETAIL_BYTES
from infobarrier.service.tokens import Role
from live_server import AppClient

URL = "/v1/tenants/abc/audit/events"


def _post(app_client: AppClient, body: dict[str, Any], role: str = "enforcer") -> Any:
    return app_client.http.post(URL, json=body, headers=app_client.headers("abc", role))


def _entries(app_client: AppClient, tenant: str = "abc") -> list[dict[str, Any]]:
    response = app_client.http.get(
        f"/v1/tenants/{tenant}/audit", headers=app_client.headers(tenant, "admin")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


def test_an_enforcer_records_an_event_in_its_tenants_chain(app_client: AppClient) -> None:
    detail = {"room_id": "!r:hs", "user_id": "@a:hs", "pair": ["a@abc.example", "b@abc.example"]}
    response = _post(app_client, {"kind": "synapse.member_removed", "detail": detail})
    assert response.status_code == 201, response.text
    entry = response.json()
    token = app_client.services.tokens.verify(app_client.tokens[("abc", "enforcer")])
    assert token is not None
    assert entry["actor"] == f"token:{token.token_id}"  # no person: the token
    assert entry["kind"] == "synapse.member_removed"
    assert entry["detail"] == {**detail, "via": f"token:{token.token_id}"}
    stored = _entries(app_client)
    assert stored[-1]["hash"] == entry["hash"]
    verified = app_client.http.get(
        "/v1/tenants/abc/audit/verify", headers=app_client.headers("abc", "admin")
    ).json()
    assert verified["intact"] is True
    assert all(e["kind"] != "synapse.member_removed" for e in _entries(app_client, "other"))
    # The log filters by the actor (the token) and the kind.
    mine = app_client.http.get(
        "/v1/tenants/abc/audit",
        params={"actor": f"token:{token.token_id}", "kind": "synapse.member_removed"},
        headers=app_client.headers("abc", "admin"),
    ).json()
    assert [e["hash"] for e in mine] == [entry["hash"]]


def test_the_actor_is_the_tokens_person(app_client: AppClient) -> None:
    record, plain = app_client.services.tokens.create(
        "abc", Role.ENFORCER, "test", person="synapse-hs1"
    )
    response = app_client.http.post(
        URL,
        json={"kind": "enforcement.note", "detail": {}},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["actor"] == "synapse-hs1"
    assert response.json()["detail"] == {"via": f"token:{record.id}"}


def test_only_enforcement_kinds_and_small_details(app_client: AppClient) -> None:
    before = _entries(app_client)
    refused = [
        {"kind": "policy.created", "detail": {}},  # an admin's entry: never forged
        {"kind": "token.revoked", "detail": {}},
        {"kind": "synapse.", "detail": {}},
        {"kind": "synapse.Member Removed", "detail": {}},
        {"kind": "enforcement.x\nforged", "detail": {}},
        {"kind": "synapse." + "x" * 60, "detail": {}},
        {"kind": "synapse.x", "detail": {"via": "token:someone-else"}},
        {"kind": "synapse.x", "detail": {}, "actor": "admin"},  # the actor is not given
        {"kind": "synapse.x", "detail": ["not", "an", "object"]},
        {"detail": {}},
    ]
    for body in refused:
        response = _post(app_client, body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["code"] in ("invalid_input", "invalid_request"), response.text
    big = {"kind": "synapse.x", "detail": {"blob": "x" * MAX_DETAIL_BYTES}}
    response = _post(app_client, big)
    assert response.status_code == 413, response.text
    assert str(MAX_DETAIL_BYTES) in response.text
    assert _entries(app_client) == before, "a refused event records nothing"


def test_who_may_record(app_client: AppClient) -> None:
    body = {"kind": "enforcement.test", "detail": {}}
    assert _post(app_client, body, "admin").status_code == 201
    for role in ("auditor", "provisioner", "compliance"):
        assert _post(app_client, body, role).status_code == 403
    other = app_client.http.post(URL, json=body, headers=app_client.headers("other", "enforcer"))
    assert other.status_code == 404
