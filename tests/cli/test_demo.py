"""``infobarrier demo``: the seed's Company ABC tenant ``abc``, applied, and its claims.

Company ABC's vendors V1, V2 and V3 each share two Remote Assist service accounts
(``vN-ra1``, ``vN-ra2``) and have two ABC support engineers (``seNa``, ``seNb``); the other
staff are ``alex``, ``blair``, ``casey`` and ``drew``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

DOMAIN = "abc.example"
VENDORS = (1, 2, 3)
STAFF = ("alex", "blair", "casey", "drew")


def upn(local: str) -> str:
    return f"{local}@{DOMAIN}"


def accounts(n: int) -> list[str]:
    return [upn(f"v{n}-ra1"), upn(f"v{n}-ra2")]


def engineers(n: int) -> list[str]:
    return [upn(f"se{n}a"), upn(f"se{n}b")]


STAFF_UPNS = [upn(s) for s in STAFF]
ALL_ENGINEERS = [e for n in VENDORS for e in engineers(n)]
ALL_ACCOUNTS = [a for n in VENDORS for a in accounts(n)]


@pytest.fixture
def demo(cli: Any) -> Any:
    cli.tenant = "abc"
    cli.ok("demo")
    return cli


def code(cli: Any, action: str, sender: str, *to: str) -> int:
    return int(cli("check", "--action", action, sender, *to).code)


def batch(
    cli: Any, tmp_path: Path, pairs: list[tuple[str, str]], action: str = "chat"
) -> list[bool]:
    """``check --batch`` for many pairs; the verdicts in order."""
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(json.dumps({"action": action, "from": a, "to": [b]}) + "\n" for a, b in pairs),
        encoding="utf-8",
    )
    answers = [json.loads(x) for x in cli.ok("check", "--batch", str(path)).splitlines()]
    assert len(answers) == len(pairs)
    return [bool(a["allowed"]) for a in answers]


def test_demo_prints_the_matrix_and_the_checks(cli: Any) -> None:
    out = cli.ok("demo")  # no --tenant needed
    assert "Tenant abc" in out
    for row in (
        "1. ABC_Staff (4)",
        "2. V1_RemoteAssistUser (2)",
        "3. V1_SupportEngineer (2)",
        "7. V3_SupportEngineer (2)",
        "8. (none) (0)",
    ):
        assert row in out
    checks = [line for line in out.splitlines() if line.startswith("- ")]
    verdicts = [line.strip().split(":")[0] for line in out.splitlines() if line.startswith("    ")]
    assert len(checks) == 7
    assert verdicts == [
        "ALLOWED",
        "ALLOWED",
        "BLOCKED",
        "BLOCKED",
        "BLOCKED",
        "BLOCKED",
        "ALLOWED",
    ]
    assert all("infobarrier --tenant abc check --action" in line for line in checks)


def test_demo_is_applied(demo: Any) -> None:
    status = json.loads(demo.ok("status", "--all", "--json"))
    assert len(status) == 1
    assert status[0]["status"] == "Completed"
    assert status[0]["failed_recipients"] == 0
    assert status[0]["report"]["findings"] == []  # licenses bought and assigned
    tenants = json.loads(demo.ok("tenants", "list", "--json"))
    assert [t["name"] for t in tenants] == ["abc"]


def test_demo_twice_resets_the_tenant(demo: Any) -> None:
    matrix = demo.ok("matrix", "--format", "json")
    users = demo.ok("users", "list", "--json")
    # Change things, then load the demo again.
    demo.ok("users", "set", upn("v1-ra1"), "Company=Elsewhere")
    demo.ok("segments", "new", "Extra", "--filter", "Department -eq 'Support'")
    demo.ok("policies", "set", "ABC_Staff-allow", "--allowed", "ABC_Staff")
    demo.ok("apply")
    assert demo.ok("matrix", "--format", "json") != matrix
    second = demo.ok("demo")
    assert "Tenant abc" in second
    assert demo.ok("matrix", "--format", "json") == matrix
    assert demo.ok("users", "list", "--json") == users
    assert "Extra" not in demo.ok("segments", "list", "--json")
    status = json.loads(demo.ok("status", "--all", "--json"))
    assert [a["number"] for a in status] == [1]
    assert [t["name"] for t in json.loads(demo.ok("tenants", "list", "--json"))] == ["abc"]
    result = demo("audit", "verify")
    assert result.code == 0
    entries = json.loads(demo.ok("audit", "list", "--json"))
    assert entries[0]["kind"] == "tenant.created"


# -- the seed's claims --------------------------------------------------------------------------


def test_v1_account_reaches_v1_engineers(demo: Any) -> None:
    for account, engineer in itertools.product(accounts(1), engineers(1)):
        assert code(demo, "call", account, engineer) == 0
        assert code(demo, "share-screen", account, engineer) == 0
        assert code(demo, "chat", engineer, account) == 0
    # A Remote Assist call with both V1 engineers at once.
    assert code(demo, "call", upn("v1-ra1"), *engineers(1)) == 0


def test_v1_account_cannot_search_or_call_v2_engineer(demo: Any) -> None:
    for action in ("search", "call", "chat", "share-screen"):
        result = demo("check", "--action", action, upn("v1-ra1"), upn("se2a"), "--json")
        assert result.code == 1, action
        data = json.loads(result.out)
        assert data["allowed"] is False
        assert data["pair"] == [upn("v1-ra1"), upn("se2a")]
        assert data["policy"] == "V1_RemoteAssistUser-allow"
    # Search for several people: refused on the first one it may not see.
    result = demo("check", "--action", "search", upn("v1-ra1"), upn("se1a"), upn("se2a"), "--json")
    assert result.code == 1
    assert json.loads(result.out)["pair"] == [upn("v1-ra1"), upn("se2a")]


def test_no_group_chat_with_v3_account(demo: Any) -> None:
    result = demo(
        "check", "--action", "group-chat", upn("v1-ra1"), upn("se1a"), upn("v3-ra1"), "--json"
    )
    assert result.code == 1
    data = json.loads(result.out)
    assert data["pair"] == [upn("v1-ra1"), upn("v3-ra1")]
    # Even without V1's account: V1's engineer may not chat with V3's account.
    assert code(demo, "group-chat", upn("se1a"), upn("se1b"), upn("v3-ra1")) == 1


def test_vendors_do_not_reach_other_abc_staff(demo: Any, tmp_path: Path) -> None:
    pairs = []
    for n in VENDORS:
        others = STAFF_UPNS + [e for m in VENDORS if m != n for e in engineers(m)]
        others += [a for m in VENDORS if m != n for a in accounts(m)]
        for account, other in itertools.product(accounts(n), others):
            pairs += [(account, other), (other, account)]
    for action in ("chat", "search"):
        verdicts = batch(demo, tmp_path, pairs, action)
        assert [p for p, ok in zip(pairs, verdicts, strict=True) if ok] == [], action
    # Spot-check the exit code of a single check.
    assert code(demo, "chat", upn("v2-ra1"), upn("alex")) == 1


def test_engineers_and_staff_reach_each_other(demo: Any, tmp_path: Path) -> None:
    pairs = list(itertools.permutations(ALL_ENGINEERS + STAFF_UPNS, 2))
    verdicts = batch(demo, tmp_path, pairs)
    assert [p for p, ok in zip(pairs, verdicts, strict=True) if not ok] == []
    assert code(demo, "chat", upn("se2a"), upn("alex")) == 0
    # And a meeting of every engineer and every staff member is allowed.
    assert code(demo, "meeting-invite", STAFF_UPNS[0], *STAFF_UPNS[1:], *ALL_ENGINEERS) == 0


def test_a_vendors_two_accounts_reach_each_other(demo: Any) -> None:
    for n in VENDORS:
        assert code(demo, "chat", *accounts(n)) == 0
