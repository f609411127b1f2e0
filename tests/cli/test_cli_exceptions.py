"""Wall-crossing exceptions through the command line (semantics §11): request, approve, use,
expire (real time: a window of a few seconds), reconciled; bad input exits 2 and changes
nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infobarrier.core.barriers import Mode, PolicyState
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import build

TENANT = "bank"
PEOPLE = {"s1": "Sales", "r1": "Research", "o1": "Ops"}


def upn(name: str) -> str:
    return f"{name}@bank.example"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def bank(db_url: str) -> str:
    """Sales blocks Research (applied); everyone licensed for Teams."""
    services = build(db_url)
    services.tenants.create(TENANT, Mode.SINGLE_SEGMENT, "test")
    users = [make_user(upn(n), Department=d) for n, d in PEOPLE.items()]
    services.directory.put_users(TENANT, users, "test")
    services.directory.add_seats(TENANT, "SPE_E5", len(users), "test")
    for user in users:
        services.directory.assign(TENANT, user.upn, "SPE_E5", "test")
    for dept in ("Sales", "Research", "Ops"):
        services.barriers.new_segment(TENANT, dept, f"Department -eq '{dept}'", "test")
    services.barriers.new_policy(
        TENANT, "Sales-block", "Sales", "test", blocked=["Research"], state=PolicyState.ACTIVE
    )
    services.applications.apply(TENANT, "test")
    services.store.dispose()
    return db_url


def check(cli: Any, action: str = "chat") -> dict[str, Any]:
    result = cli("check", "--action", action, upn("s1"), upn("r1"), "--json", tenant=TENANT)
    data: dict[str, Any] = json.loads(result.out)
    assert result.code == (0 if data["allowed"] else 1)
    return data


def listed(cli: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(cli.ok("exceptions", "list", "--json", tenant=TENANT))
    return data


def test_request_approve_use_expire_reconciled(cli: Any, bank: str) -> None:
    assert check(cli)["code"] == "blocked_by_policy"
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    out = cli.ok(
        "exceptions", "request", "--users", f"{upn('s1')},{upn('r1')}", "--actions", "chat",
        "--end", iso(end), "--why", "outage cover", "--actor", "alice", tenant=TENANT,
    )  # fmt: skip
    exc_id = out.strip().splitlines()[-1]
    assert listed(cli)[0]["id"] == exc_id
    assert check(cli)["code"] == "blocked_by_policy"  # a request opens nothing

    report = json.loads(cli.ok("exceptions", "what-if", exc_id, "--json", tenant=TENANT))
    assert report["pairs_total"] == 1

    own = cli("exceptions", "approve", exc_id, "--actor", "Alice", tenant=TENANT)
    assert own.code == 2
    assert "cannot approve" in own.err
    cli.ok("exceptions", "approve", exc_id, "--actor", "bob", tenant=TENANT)

    opened = check(cli)
    assert opened["allowed"] is True
    assert opened["code"] == "allowed_by_exception"
    assert opened["exception"] == exc_id
    assert datetime.fromisoformat(opened["exception_end"]) == end
    assert check(cli, "call")["allowed"] is False  # chat only

    services = build(bank)  # use it: the 1:1 chat the exception allows
    chat = services.collaboration.create_chat(TENANT, upn("s1"), [upn("r1")], "test")
    services.store.dispose()

    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.5)
    assert check(cli)["code"] == "blocked_by_policy"  # closed at its end, by the clock
    shown = json.loads(cli.ok("exceptions", "show", exc_id, "--json", tenant=TENANT))
    assert shown["state"] == "expired"  # the command swept it first

    services = build(bank)
    stored = services.collaboration.get(TENANT, "chat", chat.id)
    entries = services.audit.entries(TENANT, kinds=["reconciliation.chat_read_only"])
    kinds = [e.kind for e in services.audit.entries(TENANT) if e.kind.startswith("exception.")]
    services.store.dispose()
    assert stored.to_json()["read_only"] is True
    assert [(e.detail["cause"], e.detail["exception"]) for e in entries] == [
        ("exception.expired", exc_id)
    ]
    assert kinds == ["exception.requested", "exception.approved", "exception.expired"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--users", "s1@bank.example,r1@bank.example", "--end", "2020-01-01T00:00:00Z"), "past"),
        (("--users", "s1@bank.example,zz@bank.example", "--end", "+1d"), "zz@bank.example"),
        (("--segments", "Sales,Legal", "--end", "+1d"), "Legal"),
        (("--users", "s1@bank.example,r1@bank.example", "--end", "+40d"), "at most 30 days"),
        (("--users", "s1@bank.example,r1@bank.example", "--end", "soon"), "ISO 8601"),
        (("--users", "s1@bank.example", "--end", "+1d"), "exactly two users"),
        (("--end", "+1d"), "either --users"),
    ],
)
def test_bad_requests_exit_2_and_change_nothing(
    cli: Any, bank: str, args: tuple[str, ...], message: str
) -> None:
    before = cli.ok("audit", "list", "--json", tenant=TENANT)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    forty = datetime.now(UTC) + timedelta(days=40)
    fixed = [iso(tomorrow) if a == "+1d" else iso(forty) if a == "+40d" else a for a in args]
    result = cli(
        "exceptions", "request", *fixed, "--actions", "chat", "--why", "x", "--actor", "alice",
        tenant=TENANT,
    )  # fmt: skip
    assert result.code == 2, result.out
    assert message in result.err
    assert listed(cli) == []
    assert cli.ok("audit", "list", "--json", tenant=TENANT) == before


def test_unknown_action_and_missing_actor_are_refused(cli: Any, bank: str) -> None:
    end = iso(datetime.now(UTC) + timedelta(days=1))
    base = ["exceptions", "request", "--users", f"{upn('s1')},{upn('r1')}", "--end", end]
    result = cli(*base, "--actions", "fax", "--why", "x", "--actor", "a", tenant=TENANT)
    assert result.code == 2
    assert "unknown action 'fax'" in result.err
    result = cli(*base, "--actions", "chat", "--why", "x", tenant=TENANT)
    assert result.code == 2  # --actor is required
    assert listed(cli) == []
