"""Wall-crossing exceptions over HTTP against a real server (semantics §11): request,
approve (four eyes, a person behind each token), use, expire by the server's own sweep,
reconciled and audited; roles and bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_builders import standard_tenant, upn

from infobarrier.client import Client
from infobarrier.core.barriers import Mode
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build
from live_server import start_server, stop_server


class Server:
    """A live server on tenant ``abc`` (Sales blocks Research) and ``other``; tokens by name."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens

    def client(self, who: str, tenant: str = "abc") -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base}/v1/tenants/{tenant}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("exceptions")
    db_url = f"sqlite:///{Path(directory) / 'live.db'}"
    services = build(db_url)
    for name in ("abc", "other"):
        services.tenants.create(name, Mode.SINGLE_SEGMENT, "test")
    standard_tenant(services, "abc")
    tokens: dict[str, str] = {}
    for who, role, person, tenant in [
        ("alice", Role.COMPLIANCE, "Alice", "abc"),
        ("bob", Role.COMPLIANCE, "Bob", "abc"),
        ("admin", Role.ADMIN, None, "abc"),
        ("enforcer", Role.ENFORCER, None, "abc"),
        ("auditor", Role.AUDITOR, None, "abc"),
        ("outsider", Role.COMPLIANCE, "Olga", "other"),
    ]:
        _record, plain = services.tokens.create(tenant, role, "test", person=person)
        tokens[who] = plain
    services.store.dispose()
    process, base = start_server(db_url, Path(directory) / "server.log")
    try:
        yield Server(base, tokens)
    finally:
        stop_server(process)


def body(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def decision(server: Server, action: str = "chat") -> dict[str, Any]:
    with server.client("enforcer") as api:
        answer = body(
            api.post(
                "/decisions",
                json={"checks": [{"action": action, "from": upn("s1"), "to": [upn("r1")]}]},
            ),
            200,
        )
    result: dict[str, Any] = answer["results"][0]
    return result


def test_request_approve_use_expire_reconciled(server: Server) -> None:
    assert decision(server)["code"] == "blocked_by_policy"
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
    request = {
        "users": [upn("s1"), upn("r1")],
        "actions": ["chat"],
        "end": iso(end),
        "why": "cover",
    }
    with server.client("alice") as alice, server.client("bob") as bob:
        created = body(alice.post("/exceptions", json=request), 201)
        exc_id = created["id"]
        assert (created["state"], created["requester"]) == ("requested", "Alice")
        report = body(alice.get(f"/exceptions/{exc_id}/what-if"), 200)
        assert report["pairs_total"] == 1
        refused = body(alice.post(f"/exceptions/{exc_id}/approve"), 403)
        assert refused["code"] == "four_eyes"
        with server.client("admin") as admin:  # a token without a person cannot decide
            assert body(admin.post(f"/exceptions/{exc_id}/approve"), 422)["code"] == (
                "person_required"
            )
        with server.client("outsider", "abc") as outsider:  # another tenant's token
            assert outsider.post(f"/exceptions/{exc_id}/approve").status_code == 404
        with server.client("outsider", "other") as outsider:  # another tenant's exception
            assert body(outsider.post(f"/exceptions/{exc_id}/approve"), 404)["code"] == (
                "unknown_exception"
            )
        approved = body(bob.post(f"/exceptions/{exc_id}/approve"), 200)
        assert (approved["state"], approved["approver"], approved["active"]) == (
            "approved",
            "Bob",
            True,
        )
        assert body(bob.post(f"/exceptions/{exc_id}/approve"), 409)["code"] == "exception_state"

    opened = decision(server)
    assert opened["allowed"] is True
    assert opened["code"] == "allowed_by_exception"
    assert opened["exception"] == exc_id
    assert datetime.fromisoformat(opened["exception_end"]) == end
    assert decision(server, "call")["allowed"] is False
    with httpx.Client(
        base_url=server.base,
        headers={"Authorization": f"Bearer {server.tokens['enforcer']}"},
        timeout=30,
    ) as root:  # AuthZEN: the decision's context is the same verdict
        evaluation = body(
            root.post(
                "/access/v1/evaluation",
                json={
                    "subject": {"type": "user", "id": upn("s1")},
                    "action": {"name": "chat"},
                    "resource": {"type": "user", "id": upn("r1")},
                },
            ),
            200,
        )
        assert evaluation["decision"] is True
        assert evaluation["context"]["code"] == "allowed_by_exception"
        assert evaluation["context"]["exception"] == exc_id
    with server.client("enforcer") as api:
        relation = body(api.get("/relationship", params={"a": upn("s1"), "b": upn("r1")}), 200)
        assert relation["code"] == "allowed_by_exception"
        chat = body(api.post("/chats", json={"from": upn("s1"), "to": [upn("r1")]}), 201)

    # The server's own sweep records the expiry and reconciles; nobody acts.
    with server.client("auditor") as auditor:
        deadline = time.monotonic() + 30
        while True:
            shown = body(auditor.get(f"/exceptions/{exc_id}"), 200)
            if shown["state"] == "expired" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shown["state"] == "expired"
        assert decision(server)["code"] == "blocked_by_policy"
        with server.client("enforcer") as api:
            assert body(api.get(f"/chats/{chat['id']}"), 200)["read_only"] is True
        entries = body(auditor.get("/audit", params={"kind": "reconciliation.chat_read_only"}), 200)
        assert [(e["detail"]["cause"], e["detail"]["exception"]) for e in entries] == [
            ("exception.expired", exc_id)
        ]
        kinds = [
            e["actor"] + " " + e["kind"]
            for e in body(auditor.get("/audit"), 200)
            if e["kind"].startswith("exception.")
        ]
        assert kinds == [
            "Alice exception.requested",
            "Bob exception.approved",
            "(expiry) exception.expired",
        ]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"end": "2020-01-01T00:00:00Z"}, 400, "invalid_input"),
        ({"end": "+40d"}, 400, "invalid_input"),
        ({"users": [upn("s1"), upn("nobody")]}, 404, "unknown_user"),
        ({"users": None, "segments": ["Sales", "Legal"]}, 404, "unknown_segment"),
        ({"actions": ["fax"]}, 400, "invalid_input"),
        ({"users": [upn("s1")]}, 422, "invalid_request"),
        ({"extra": 1}, 422, "invalid_request"),
    ],
)
def test_bad_requests_change_nothing(
    server: Server, change: dict[str, Any], status: int, code: str
) -> None:
    request: dict[str, Any] = {
        "users": [upn("s1"), upn("r1")],
        "actions": ["chat"],
        "end": iso(datetime.now(UTC) + timedelta(days=1)),
        "why": "x",
    }
    request.update(change)
    if request["end"] == "+40d":
        request["end"] = iso(datetime.now(UTC) + timedelta(days=40))
    request = {k: v for k, v in request.items() if v is not None}
    with server.client("alice") as alice, server.client("auditor") as auditor:
        before = (body(alice.get("/exceptions"), 200), len(body(auditor.get("/audit"), 200)))
        assert body(alice.post("/exceptions", json=request), status)["code"] == code
        after = (body(alice.get("/exceptions"), 200), len(body(auditor.get("/audit"), 200)))
    assert after == before


def test_roles(server: Server) -> None:
    end = iso(datetime.now(UTC) + timedelta(days=1))
    request = {"users": [upn("s2"), upn("r2")], "actions": ["call"], "end": end, "why": "x"}
    for who in ("enforcer", "auditor"):
        with server.client(who) as api:
            assert body(api.post("/exceptions", json=request), 403)["code"] == "forbidden"
    with server.client("auditor") as auditor:
        assert auditor.get("/exceptions").status_code == 200
    with server.client("bob") as bob:  # compliance: no segments, no policies
        assert bob.get("/segments").status_code == 200
        refused = bob.post("/segments", json={"name": "X", "filter": "Department -eq 'X'"})
        assert body(refused, 403)["code"] == "forbidden"
        assert bob.put("/exception-settings", json={"max_window_days": 2}).status_code == 403
        created = body(bob.post("/exceptions", json=request), 201)
    with server.client("alice") as alice:
        body(alice.post(f"/exceptions/{created['id']}/reject", json={"note": "no"}), 200)
        assert body(alice.get(f"/exceptions/{created['id']}"), 200)["state"] == "rejected"


def test_the_decision_state_moves_when_a_window_starts_and_ends(server: Server) -> None:
    """Nobody acts between the approval and the end: the tenant's decision state (``GET
    /version``'s stamp, the ``X-Infobarrier-Version`` of answers) moves at the window's start
    and at its end, so the client's cache neither keeps a refusal past the start nor an
    allow past the end (it reads the state before each cached answer)."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now + timedelta(seconds=5), now + timedelta(seconds=10)
    with server.client("alice") as alice, server.client("bob") as bob:
        asked = {
            "users": [upn("s2"), upn("r2")],
            "actions": ["chat"],
            "start": iso(start),
            "end": iso(end),
            "why": "a deal",
        }
        created = body(alice.post("/exceptions", json=asked), 201)
        body(bob.post(f"/exceptions/{created['id']}/approve"), 200)

    def wait_until(moment: datetime) -> None:
        time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)

    with Client(server.base, server.tokens["enforcer"], "abc") as client:
        approved = client.version()
        first = client.evaluate(upn("s2"), "chat", upn("r2"))
        assert (first.decision, first.source, first.version) == (False, "live", approved)
        cached = client.evaluate(upn("s2"), "chat", upn("r2"))
        assert (cached.decision, cached.source) == (False, "cache")
        assert datetime.now(UTC) < start, "the machine was too slow for this test's window"

        wait_until(start)
        started = client.version()
        assert started != approved
        opened = client.evaluate(upn("s2"), "chat", upn("r2"))
        assert (opened.decision, opened.source, opened.version) == (True, "live", started)
        assert opened.context["code"] == "allowed_by_exception"
        assert client.evaluate(upn("s2"), "chat", upn("r2")).source == "cache"
        with server.client("enforcer") as api:
            answered = api.post(
                "/decisions",
                json={"checks": [{"action": "chat", "from": upn("s2"), "to": [upn("r2")]}]},
            )
            assert answered.headers["X-Infobarrier-Version"] == started

        wait_until(end)
        closed = client.evaluate(upn("s2"), "chat", upn("r2"))
        assert (closed.decision, closed.source) == (False, "live")
        assert closed.context["code"] == "blocked_by_policy"
        assert closed.version not in (approved, started)
