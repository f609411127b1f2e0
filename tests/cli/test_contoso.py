"""Microsoft's Contoso example, end to end through the CLI.

Source: learn.microsoft.com/purview/information-barriers-policies, "Example scenario:
Contoso's departments, segments, and policies". Contoso segments users by ``Department``
(HR, Sales, Marketing, Research, Manufacturing) and defines three policies:

* ``Sales-Research``: Sales blocks Research;
* ``Research-Sales``: Research blocks Sales;
* ``Manufacturing-HRMarketing``: Manufacturing may reach only HR, Marketing and itself.

The verdicts below are the ones semantics §6 gives (SingleSegment mode, two-way
enforcement); where Microsoft's own plan table says otherwise, a comment says so and §6
decides.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

TENANT = "contoso"
DOMAIN = "contoso.com"

#: Entra ID "Download users" header, as the portal writes it.
ENTRA_HEADER = [
    "userPrincipalName",
    "displayName",
    "surname",
    "mail",
    "givenName",
    "id",
    "userType",
    "jobTitle",
    "department",
    "accountEnabled",
    "usageLocation",
    "streetAddress",
    "state",
    "country",
    "officeLocation",
    "city",
    "postalCode",
    "telephoneNumber",
    "mobilePhone",
    "alternateEmailAddress",
    "ageGroup",
    "consentProvidedForMinor",
    "legalAgeGroupClassification",
    "companyName",
    "creationType",
    "directorySynced",
    "invitationState",
    "identityIssuer",
    "createdDateTime",
]

#: (local part, display name, department). ``temp1`` has no department, ``temp2`` one
#: that no segment names: both are unsegmented.
PEOPLE = (
    ("hr1", "Megan Bowen", "HR"),
    ("hr2", "Alex Wilber", "HR"),
    ("sales1", "Diego Siciliani", "Sales"),
    ("sales2", "Isaiah Langer", "Sales"),
    ("mkt1", "Lidia Holloway", "Marketing"),
    ("mkt2", "Adele Vance", "Marketing"),
    ("res1", "Lee Gu", "Research"),
    ("res2", "Nestor Wilke", "Research"),
    ("man1", "Pradeep Gupta", "Manufacturing"),
    ("man2", "Grady Archie", "Manufacturing"),
    ("temp1", "Joni Sherman", ""),
    ("temp2", "Johanna Lorenz", "Facilities"),
)

SEGMENTS = ("HR", "Sales", "Marketing", "Research", "Manufacturing")
NONE = "(none)"


def upn(local: str) -> str:
    return f"{local}@{DOMAIN}"


UPNS = [upn(p[0]) for p in PEOPLE]
SEGMENT_OF: dict[str, str] = {upn(p[0]): (p[2] if p[2] in SEGMENTS else NONE) for p in PEOPLE}

#: Microsoft's script, as the article writes it, with the policies Active so that the
#: Start-InformationBarrierPoliciesApplication line puts them in force.
CONTOSO_SCRIPT = """\
# Contoso: learn.microsoft.com/purview/information-barriers-policies
Connect-IPPSSession -UserPrincipalName admin@contoso.com
New-OrganizationSegment -Name "HR" -UserGroupFilter "Department -eq 'HR'"
New-OrganizationSegment -Name "Sales" -UserGroupFilter "Department -eq 'Sales'"
New-OrganizationSegment -Name "Marketing" -UserGroupFilter "Department -eq 'Marketing'"
New-OrganizationSegment -Name "Research" -UserGroupFilter "Department -eq 'Research'"
New-OrganizationSegment -Name "Manufacturing" -UserGroupFilter "Department -eq 'Manufacturing'"
New-InformationBarrierPolicy -Name "Sales-Research" -AssignedSegment "Sales" -SegmentsBlocked "Research" -State Active
New-InformationBarrierPolicy -Name "Research-Sales" -AssignedSegment "Research" -SegmentsBlocked "Sales" -State Active
New-InformationBarrierPolicy -Name "Manufacturing-HRMarketing" -AssignedSegment "Manufacturing" `
    -SegmentsAllowed "HR","Marketing","Manufacturing" -State Active
Get-InformationBarrierPolicy
Start-InformationBarrierPoliciesApplication
"""  # noqa: E501

#: The policies that refuse each blocked pair of segments (§6: two-way enforcement).
#: Both Sales-Research and Research-Sales refuse Sales/Research; the CLI may name either.
REFUSERS: dict[frozenset[str], set[tuple[str, str]]] = {
    frozenset({"Sales", "Research"}): {("Sales-Research", "Sales"), ("Research-Sales", "Research")},
    # Microsoft's plan table lists Manufacturing among those Sales "can communicate with",
    # but Contoso's own Policy 3 allows Manufacturing to reach only HR, Marketing and
    # itself. §4/§6: enforcement is always two-way, so Sales <-> Manufacturing is blocked.
    frozenset({"Sales", "Manufacturing"}): {("Manufacturing-HRMarketing", "Manufacturing")},
    # The same contradiction for Research: the table says Research can communicate with
    # Manufacturing; Policy 3 (and §6) says no.
    frozenset({"Research", "Manufacturing"}): {("Manufacturing-HRMarketing", "Manufacturing")},
}
# Microsoft's table also says Manufacturing "can't communicate with anyone other than HR or
# Marketing", which would include users in no segment. §6: when only one user is segmented,
# the pair is allowed when every segment of that user is open(s); outside Legacy mode every
# segment is open, so Manufacturing <-> unsegmented users is allowed.


def expected_allowed(a: str, b: str) -> bool:
    """§6 for two users in segments ``a`` and ``b`` (``(none)`` for no segment)."""
    return frozenset({a, b}) not in REFUSERS


def entra_users_csv(
    *, with_ids: bool = True, people: tuple[tuple[str, str, str], ...] = PEOPLE
) -> str:
    """The users as Entra ID's "Download users" writes them."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ENTRA_HEADER, lineterminator="\r\n")
    writer.writeheader()
    for local, name, department in people:
        given, _, surname = name.partition(" ")
        writer.writerow(
            {
                "userPrincipalName": upn(local),
                "displayName": name,
                "surname": surname,
                "mail": upn(local),
                "givenName": given,
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, upn(local))) if with_ids else "",
                "userType": "Member",
                "jobTitle": "Staff",
                "department": department,
                "accountEnabled": "True",
                "usageLocation": "US",
                "country": "United States",
                "officeLocation": "Building 1",
                "city": "Redmond",
                "companyName": "Contoso",
                "creationType": "",
                "directorySynced": "False",
                "createdDateTime": "2023-03-01T10:00:00Z",
            }
        )
    return buffer.getvalue()


def setup_contoso(cli: Any, tmp_path: Path, tenant: str = TENANT) -> None:
    """Create the tenant, import the users CSV and Microsoft's script (which applies)."""
    cli.ok("tenants", "create", tenant)
    users = tmp_path / f"{tenant}-users.csv"
    # Entra writes UTF-8 with a byte-order mark.
    users.write_bytes(b"\xef\xbb\xbf" + entra_users_csv().encode())
    out = cli.ok("users", "import", str(users), tenant=tenant)
    assert f"{len(PEOPLE)} users created" in out
    script = tmp_path / "contoso.ps1"
    script.write_text(CONTOSO_SCRIPT, encoding="utf-8")
    out = cli.ok("powershell", "import", str(script), tenant=tenant)
    assert "5 segments, 3 policies, 1 application(s)" in out
    assert "Completed" in out


@pytest.fixture
def contoso(cli: Any, tmp_path: Path) -> Any:
    setup_contoso(cli, tmp_path)
    cli.tenant = TENANT
    return cli


VERDICT_KEYS = {"allowed", "reason", "code", "pair", "policy", "segment"}


def assert_verdict_shape(obj: Any) -> None:
    """The verdict object of docs/interfaces.md: allowed, reason, code, pair, policy, segment."""
    assert isinstance(obj, dict)
    assert set(obj) == VERDICT_KEYS, obj
    assert isinstance(obj["allowed"], bool)
    assert isinstance(obj["reason"], str)
    assert obj["reason"]
    assert isinstance(obj["code"], str)
    assert obj["code"]
    assert obj["pair"] is None or (
        isinstance(obj["pair"], list)
        and len(obj["pair"]) == 2
        and all(isinstance(x, str) for x in obj["pair"])
    )
    assert obj["policy"] is None or isinstance(obj["policy"], str)
    assert obj["segment"] is None or isinstance(obj["segment"], str)


def obj_policy_named(text: str, a: str, b: str) -> str | None:
    """The refusing policy of segments ``a`` and ``b`` that a text answer names, if any."""
    return next((p for p, _ in REFUSERS[frozenset({a, b})] if f"'{p}'" in text), None)


def representative_pairs() -> list[tuple[str, str]]:
    """Every ordered pair of departments (and no department), as two distinct users."""
    first: dict[str, str] = {}
    second: dict[str, str] = {}
    for user in UPNS:
        group = SEGMENT_OF[user]
        if group not in first:
            first[group] = user
        elif group not in second:
            second[group] = user
    pairs = []
    for a, b in itertools.product(first, repeat=2):
        pairs.append((first[a], second[b] if a == b else first[b]))
    return pairs


# -- setup -----------------------------------------------------------------------------------


def test_script_defines_contoso_and_applies(contoso: Any) -> None:
    segments = json.loads(contoso.ok("segments", "list", "--json"))
    assert [s["name"] for s in segments] == list(SEGMENTS)
    assert {s["name"]: s["users"] for s in segments} == {
        "HR": 2,
        "Sales": 2,
        "Marketing": 2,
        "Research": 2,
        "Manufacturing": 2,
    }
    policies = {p["name"]: p for p in json.loads(contoso.ok("policies", "list", "--json"))}
    assert set(policies) == {"Sales-Research", "Research-Sales", "Manufacturing-HRMarketing"}
    assert policies["Sales-Research"]["kind"] == "block"
    assert policies["Sales-Research"]["segments"] == ["Research"]
    assert policies["Manufacturing-HRMarketing"]["kind"] == "allow"
    assert policies["Manufacturing-HRMarketing"]["segments"] == ["HR", "Marketing", "Manufacturing"]
    assert all(p["state"] == "Active" for p in policies.values())
    status = json.loads(contoso.ok("status", "--json"))
    assert len(status) == 1
    assert status[0]["status"] == "Completed"
    assert status[0]["total_recipients"] == len(PEOPLE)
    assert status[0]["failed_recipients"] == 0


# -- check, every pair of departments ---------------------------------------------------------


def test_check_chat_every_department_pair(contoso: Any) -> None:
    problems: list[str] = []
    for sender, target in representative_pairs():
        a, b = SEGMENT_OF[sender], SEGMENT_OF[target]
        allowed = expected_allowed(a, b)
        if ROWS.index(a) <= ROWS.index(b):  # the text form once per unordered pair
            text = contoso("check", "--action", "chat", sender, target)
            word = "ALLOWED" if allowed else "BLOCKED"
            if text.code != (0 if allowed else 1) or not text.out.startswith(f"{word}: "):
                problems.append(f"{a} -> {b}: exit {text.code}, {text.out.strip()!r}")
            elif not allowed and obj_policy_named(text.out, a, b) is None:
                problems.append(f"{a} -> {b}: no refusing policy named in {text.out!r}")
        result = contoso("check", "--action", "chat", sender, target, "--json")
        if result.code != (0 if allowed else 1):
            problems.append(f"{a} -> {b} --json: exit {result.code}")
        obj = json.loads(result.out)
        assert_verdict_shape(obj)
        if obj["allowed"] is not allowed:
            problems.append(f"{a} -> {b}: allowed={obj['allowed']}, §6 says {allowed}")
            continue
        assert obj["pair"] == [sender, target], obj
        if allowed:
            if NONE in (a, b):
                assert obj["policy"] is None, obj
                assert obj["code"] == ("unsegmented" if a == b else "one_unsegmented"), obj
            else:
                assert obj["code"] == "permitted", obj
        else:
            assert obj["code"] == "blocked_by_policy", obj
            assert (obj["policy"], obj["segment"]) in REFUSERS[frozenset({a, b})], obj
    assert not problems, "\n".join(problems)


def test_check_reason_names_the_policy_text(contoso: Any) -> None:
    result = contoso("check", "--action", "chat", upn("man1"), upn("sales1"))
    assert result.code == 1
    assert result.out.startswith(f"BLOCKED: {upn('man1')} and {upn('sales1')}: ")
    assert "'Manufacturing-HRMarketing'" in result.out
    assert "'Sales'" in result.out
    result = contoso("check", "--action", "chat", upn("man1"), upn("mkt1"))
    assert result.code == 0
    assert result.out.startswith("ALLOWED: ")


def test_check_other_actions(contoso: Any) -> None:
    # Group chat: every pair; Sales and Research invitees block each other.
    result = contoso(
        "check", "--action", "group-chat", upn("hr1"), upn("sales1"), upn("res1"), "--json"
    )
    assert result.code == 1
    obj = json.loads(result.out)
    assert_verdict_shape(obj)
    assert obj["allowed"] is False
    assert obj["pair"] == [upn("sales1"), upn("res1")]
    # Search: only the actor with each result; Sales and Research are never paired.
    result = contoso("check", "--action", "search", upn("hr1"), upn("sales1"), upn("res1"))
    assert result.code == 0
    # Meeting invite from HR to Marketing and Manufacturing: every pair compatible.
    result = contoso(
        "check", "--action", "meeting-invite", upn("hr1"), upn("mkt1"), upn("man1"), "--json"
    )
    assert result.code == 0
    obj = json.loads(result.out)
    assert_verdict_shape(obj)
    assert obj["allowed"] is True
    # Share screen: the sharer with each participant, in order; the first refusal is named.
    result = contoso(
        "check", "--action", "share-screen", upn("man1"), upn("hr1"), upn("res2"), "--json"
    )
    assert result.code == 1
    obj = json.loads(result.out)
    assert obj["pair"] == [upn("man1"), upn("res2")]
    assert obj["policy"] == "Manufacturing-HRMarketing"
    assert obj["segment"] == "Manufacturing"


# -- matrix ----------------------------------------------------------------------------------

ROWS = [*SEGMENTS, NONE]
COUNTS = [2, 2, 2, 2, 2, 2]


def test_matrix_json(contoso: Any) -> None:
    data = json.loads(contoso.ok("matrix", "--format", "json"))
    assert data["segments"] == ROWS
    assert data["users"] == COUNTS
    cells = {(c["a"], c["b"]): c for c in data["cells"]}
    assert len(data["cells"]) == len(ROWS) ** 2
    for a, b in itertools.product(ROWS, repeat=2):
        cell = cells[(a, b)]
        assert cell["allowed"] is expected_allowed(a, b), cell
        assert isinstance(cell["reason"], str)
        assert cell["reason"]
        if not cell["allowed"]:
            assert cell["policy"] in {p for p, _ in REFUSERS[frozenset({a, b})]}, cell


def test_matrix_csv(contoso: Any) -> None:
    rows = list(csv.reader(io.StringIO(contoso.ok("matrix", "--format", "csv"))))
    assert rows[0] == ["segment", "users", *ROWS]
    assert [r[0] for r in rows[1:]] == ROWS
    for row, count in zip(rows[1:], COUNTS, strict=True):
        assert row[1] == str(count)
        expected = ["allowed" if expected_allowed(row[0], b) else "blocked" for b in ROWS]
        assert row[2:] == expected, row


def test_matrix_table(contoso: Any) -> None:
    out = contoso.ok("matrix", "--format", "table")
    assert contoso.ok("matrix") == out  # table is the default
    for k, (name, count) in enumerate(zip(ROWS, COUNTS, strict=True), start=1):
        line = next(x for x in out.splitlines() if f"{k}. {name} ({count})" in x)
        marks = re.findall("[✓✗]", line)
        expected = ["✓" if expected_allowed(name, b) else "✗" for b in ROWS]
        assert marks == expected, line


def test_matrix_bad_format(contoso: Any) -> None:
    result = contoso("matrix", "--format", "xml")
    assert result.code == 2
    assert "xml" in result.err


# -- recipient -------------------------------------------------------------------------------


def test_recipient_one_user(contoso: Any) -> None:
    out = contoso.ok("recipient", upn("man1"))
    assert "epoch 1" in out
    assert upn("man1") in out
    assert re.search(r"segments:\s+Manufacturing\b", out)
    assert re.search(r"policies:\s+Manufacturing-HRMarketing\b", out)
    data = json.loads(contoso.ok("recipient", upn("man1"), "--json"))
    assert data["upn"] == upn("man1")
    assert data["segments"] == ["Manufacturing"]
    assert data["policies"] == ["Manufacturing-HRMarketing"]
    assert data["errors"] == []
    assert "relationship" not in data
    unsegmented = json.loads(contoso.ok("recipient", upn("temp2"), "--json"))
    assert unsegmented["segments"] == []
    assert unsegmented["policies"] == []


def test_recipient_two_users(contoso: Any) -> None:
    out = contoso.ok("recipient", upn("sales1"), upn("res1"))
    assert upn("sales1") in out
    assert upn("res1") in out
    relationship = next(x for x in out.splitlines() if x.startswith("relationship:"))
    assert "BLOCKED" in relationship
    assert "Sales-Research" in relationship or "Research-Sales" in relationship
    data = json.loads(contoso.ok("recipient", upn("sales1"), upn("res1"), "--json"))
    assert data["other"]["upn"] == upn("res1")
    assert data["other"]["segments"] == ["Research"]
    assert_verdict_shape(data["relationship"])
    assert data["relationship"]["allowed"] is False
    data = json.loads(contoso.ok("recipient", upn("man1"), upn("temp1"), "--json"))
    assert data["relationship"]["allowed"] is True
    assert data["relationship"]["code"] == "one_unsegmented"


def test_recipient_unknown_user(contoso: Any) -> None:
    result = contoso("recipient", upn("ghost"))
    assert result.code == 2
    assert "ghost" in result.err


# -- check --batch ---------------------------------------------------------------------------


def test_check_batch_answers_in_place(contoso: Any, tmp_path: Path) -> None:
    lines = [
        json.dumps({"action": "chat", "from": upn("sales1"), "to": [upn("res1")]}),
        json.dumps({"action": "chat", "from": upn("ghost"), "to": [upn("res1")]}),
        '{"action": "chat", "from": "sales1@contoso.com", "to": [',
        json.dumps({"action": "chat", "from": upn("hr1"), "to": [upn("man1")]}),
        json.dumps(
            {"action": "group-chat", "from": upn("sales1"), "to": [upn("hr1"), upn("sales1")]}
        ),
        json.dumps({"action": "chat", "from": upn("hr1"), "to": [upn("sales1"), upn("mkt1")]}),
        json.dumps({"action": "group-chat", "from": upn("hr1"), "to": [upn("mkt1"), upn("man1")]}),
        json.dumps(
            {"action": "meeting-invite", "from": upn("hr1"), "to": [upn("sales1"), upn("res1")]}
        ),
    ]
    batch = tmp_path / "checks.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = contoso("check", "--batch", str(batch))
    assert result.code == 0, result.err
    answers = [json.loads(x) for x in result.out.splitlines()]
    assert len(answers) == len(lines)

    def error(obj: Any) -> dict[str, str]:
        assert set(obj) == {"error"}, obj
        assert set(obj["error"]) == {"code", "message"}, obj
        assert isinstance(obj["error"]["code"], str)
        assert obj["error"]["code"]
        assert isinstance(obj["error"]["message"], str)
        assert obj["error"]["message"]
        return dict(obj["error"])

    assert_verdict_shape(answers[0])
    assert answers[0]["allowed"] is False
    assert answers[0]["pair"] == [upn("sales1"), upn("res1")]
    assert "ghost" in error(answers[1])["message"]
    error(answers[2])  # bad JSON
    assert_verdict_shape(answers[3])
    assert answers[3]["allowed"] is True
    assert "to" in error(answers[4])["message"]  # from inside to
    assert "one" in error(answers[5])["message"]  # chat takes exactly one 'to'
    assert_verdict_shape(answers[6])
    assert answers[6]["allowed"] is True
    assert_verdict_shape(answers[7])
    assert answers[7]["allowed"] is False
    # The invitees are checked with each other too.
    assert answers[7]["pair"] == [upn("sales1"), upn("res1")]
    codes = [error(answers[i])["code"] for i in (1, 2, 4, 5)]
    assert len(set(codes[:2])) == 2, codes  # an unknown user is not bad JSON


def test_check_batch_matches_single_checks(contoso: Any, tmp_path: Path) -> None:
    pairs = representative_pairs()
    batch = tmp_path / "pairs.jsonl"
    batch.write_text(
        "".join(json.dumps({"action": "chat", "from": a, "to": [b]}) + "\n" for a, b in pairs),
        encoding="utf-8",
    )
    answers = [json.loads(x) for x in contoso.ok("check", "--batch", str(batch)).splitlines()]
    assert len(answers) == len(pairs)
    for (a, b), answer in zip(pairs, answers, strict=True):
        assert_verdict_shape(answer)
        assert answer["allowed"] is expected_allowed(SEGMENT_OF[a], SEGMENT_OF[b]), (a, b)
    a, b = pairs[5]
    single = json.loads(contoso("check", "--action", "chat", a, b, "--json").out)
    assert single == answers[5]


# -- export, then import into a second tenant --------------------------------------------------


def all_pairs_batch(path: Path) -> Path:
    path.write_text(
        "".join(
            json.dumps({"action": action, "from": a, "to": [b]}) + "\n"
            for action in ("chat", "search")
            for a, b in itertools.permutations(UPNS, 2)
        ),
        encoding="utf-8",
    )
    return path


def test_export_then_import_into_second_tenant_gives_same_decisions(
    contoso: Any, tmp_path: Path
) -> None:
    before_users = contoso.ok("users", "list", "--json")
    # Edits that are not applied: the export is the epoch in force, not the definitions.
    contoso.ok("policies", "set", "Sales-Research", "--state", "Inactive")
    contoso.ok("segments", "set", "HR", "--filter", "Department -eq 'Nobody'")
    script = contoso.ok("powershell", "export")
    assert "New-OrganizationSegment" in script
    assert "Start-InformationBarrierPoliciesApplication" in script
    exported = tmp_path / "export.ps1"
    exported.write_text(script, encoding="utf-8")

    contoso.ok("tenants", "create", "contoso-copy")
    # The same users (UPNs and attributes). Without the id column: importing the very same
    # ids into a second tenant is covered by test_same_entra_csv_into_second_tenant below.
    users = tmp_path / "copy-users.csv"
    users.write_text(entra_users_csv(with_ids=False), encoding="utf-8")
    contoso.ok("users", "import", str(users), tenant="contoso-copy")
    out = contoso.ok("powershell", "import", str(exported), tenant="contoso-copy")
    assert "1 application(s)" in out

    batch = all_pairs_batch(tmp_path / "all.jsonl")
    source = contoso.ok("check", "--batch", str(batch)).splitlines()
    copy = contoso.ok("check", "--batch", str(batch), tenant="contoso-copy").splitlines()
    assert len(source) == 2 * len(UPNS) * (len(UPNS) - 1)
    assert source == copy
    assert contoso.ok("matrix", "--format", "json") == contoso.ok(
        "matrix", "--format", "json", tenant="contoso-copy"
    )
    # The source tenant is untouched by all of this.
    assert contoso.ok("users", "list", "--json") == before_users


def test_same_entra_csv_into_second_tenant(contoso: Any, tmp_path: Path) -> None:
    """§1: nothing is ever shared across tenants. Importing the same Entra export (same
    object ids) into a second tenant must leave the first tenant's directory alone."""
    before_users = contoso.ok("users", "list", "--json")
    assert len(json.loads(before_users)) == len(PEOPLE)
    contoso.ok("tenants", "create", "contoso-copy")
    users = tmp_path / "same-users.csv"
    users.write_text(entra_users_csv(with_ids=True), encoding="utf-8")
    contoso("users", "import", str(users), tenant="contoso-copy")
    assert contoso.ok("users", "list", "--json") == before_users
    result = contoso("check", "--action", "chat", upn("sales1"), upn("res1"))
    assert result.code == 1, result.err


def test_check_batch_from_stdin(contoso: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        json.dumps({"action": "chat", "from": upn("res2"), "to": [upn("sales2")]}),
        "not json",
        json.dumps({"action": "chat", "from": upn("res2"), "to": [upn("mkt2")]}),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    answers = [json.loads(x) for x in contoso.ok("check", "--batch", "-").splitlines()]
    assert [a.get("allowed") for a in answers] == [False, None, True]
    assert set(answers[1]) == {"error"}


def test_people_search_restriction_disabled_only_opens_search(contoso: Any) -> None:
    """§1: with PeopleSearchRestriction Disabled the search verdict is always yes; every
    other action is unchanged."""
    contoso.ok("tenants", "search-restriction", "Disabled")
    result = contoso("check", "--action", "search", upn("sales1"), upn("res1"), "--json")
    assert result.code == 0
    assert json.loads(result.out)["allowed"] is True
    assert contoso("check", "--action", "chat", upn("sales1"), upn("res1")).code == 1
    assert contoso("check", "--action", "search", upn("sales1"), upn("ghost")).code == 2
    contoso.ok("tenants", "search-restriction", "Enabled")
    assert contoso("check", "--action", "search", upn("sales1"), upn("res1")).code == 1
