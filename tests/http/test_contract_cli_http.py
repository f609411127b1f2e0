"""One decision contract: the same check asked through the CLI (``check --json``,
``check --batch``) and a real HTTP server (``POST /decisions``, ``GET /relationship``)
gives equal objects, errors included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infobarrier.demo import abc
from infobarrier.service.wiring import build
from live_server import LiveServer, make_tokens, start_server, stop_server

u = abc.upn

#: Allowed and blocked, one pair and groups, the search, errors answered in place (an
#: unknown user, an unknown action, ``from`` inside ``to``, a chat to two users), a UPN
#: spelled in capitals.
CHECKS: list[dict[str, Any]] = [
    *({"action": c.action, "from": c.sender, "to": list(c.to)} for c in abc.CHECKS),
    {"action": "meeting-invite", "from": u("alex"), "to": [u("blair"), u("se1a")]},
    {"action": "chat", "from": u("ALEX").upper(), "to": [u("drew")]},
    {"action": "share-file", "from": u("se1a"), "to": [u("v2-ra1")]},
    {"action": "chat", "from": u("alex"), "to": [u("ghost")]},
    {"action": "teleport", "from": u("alex"), "to": [u("drew")]},
    {"action": "call", "from": u("alex"), "to": [u("alex")]},
    {"action": "chat", "from": u("alex"), "to": [u("drew"), u("blair")]},
    {"action": "add-team-member", "from": u("alex"), "to": [u("drew")]},
]


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server over the demo tenant ``abc`` (its database shared with the CLI)."""
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    services = build(db_url)
    abc.load(services, "test")
    tokens = make_tokens(services, [abc.TENANT])
    services.store.dispose()
    process, base = start_server(db_url, tmp_path / "server.log")
    try:
        yield LiveServer(base, db_url, tokens, process)
    finally:
        stop_server(process)


def test_cli_and_http_answer_the_same_checks_with_equal_objects(
    demo_server: LiveServer, cli: Any, tmp_path: Path
) -> None:
    cli.db_url = demo_server.db_url
    cli.tenant = abc.TENANT
    with demo_server.client(abc.TENANT, "enforcer") as front:
        response = front.post("/decisions", json={"checks": CHECKS})
        assert response.status_code == 200, response.text
        over_http = response.json()["results"]
        pair = front.get("/relationship", params={"a": u("se1a"), "b": u("v2-ra1")})
        assert pair.status_code == 200, pair.text
        relationship = pair.json()

    batch = tmp_path / "checks.jsonl"
    batch.write_text("\n".join(json.dumps(c) for c in CHECKS) + "\n", encoding="utf-8")
    lines = cli.ok("check", "--batch", str(batch)).splitlines()
    assert [json.loads(line) for line in lines] == over_http

    as_array = tmp_path / "checks.json"
    as_array.write_text(json.dumps(CHECKS), encoding="utf-8")
    lines = cli.ok("check", "--batch", str(as_array)).splitlines()
    assert [json.loads(line) for line in lines] == over_http

    answered = 0
    for check, expected in zip(CHECKS, over_http, strict=True):
        result = cli("check", "--json", "--action", check["action"], check["from"], *check["to"])
        if "error" in expected:
            assert result.code == 2, result.out
            assert expected["error"]["message"] in result.err
            continue
        assert result.code == (0 if expected["allowed"] else 1), result.err
        assert json.loads(result.out) == expected
        answered += 1
    assert answered >= 8
    assert any(not r.get("allowed", True) for r in over_http)
    assert any(r.get("allowed") for r in over_http)

    status = json.loads(cli.ok("recipient", u("se1a"), u("v2-ra1"), "--json"))
    assert status["relationship"] == relationship


def test_a_malformed_check_has_the_same_code_on_both(
    demo_server: LiveServer, cli: Any, tmp_path: Path
) -> None:
    cli.db_url = demo_server.db_url
    cli.tenant = abc.TENANT
    bad = [
        {"action": "chat", "from": u("alex"), "to": u("drew")},
        {"action": "chat", "from": u("alex")},
        {"action": "chat", "from": u("alex"), "to": [u("drew")], "context": {}},
    ]
    batch = tmp_path / "bad.jsonl"
    for check in bad:
        with demo_server.client(abc.TENANT, "enforcer") as front:
            response = front.post("/decisions", json={"checks": [check]})
        assert response.status_code == 422, response.text
        batch.write_text(json.dumps(check) + "\n", encoding="utf-8")
        (line,) = cli.ok("check", "--batch", str(batch)).splitlines()
        error = json.loads(line)["error"]
        assert error["code"] == response.json()["code"] == "invalid_check"
        # The same sentence after where it was: "line 1: " or "checks[0]: ".
        assert error["message"].removeprefix("line 1: ") == response.json()["message"].removeprefix(
            "checks[0]: "
        )
