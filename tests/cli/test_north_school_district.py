"""Microsoft's multi-segment example (North School District), end to end through the CLI.

Source: learn.microsoft.com/purview/information-barriers-multi-segment. Segments
``School1`` and ``School2`` by ``Department``, ``AllTeachers`` by membership of the group
whose mail is ``AllTeachersgroup@northschoolsdistrict.com``; three allow-only policies,
each segment allowing itself. Semantics §6, MultiSegment: two users are compatible when
*some* segment of one and *some* segment of the other permit each other both ways.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

TENANT = "nsd"
DOMAIN = "northschoolsdistrict.com"
TEACHERS_MAIL = f"AllTeachersgroup@{DOMAIN}"


def upn(local: str) -> str:
    return f"{local}@{DOMAIN}"


#: (local part, display name, department, teacher?)
PEOPLE = (
    ("stu1a", "Student One A", "School1", False),
    ("stu1b", "Student One B", "School1", False),
    ("tea1", "Teacher One", "School1", True),
    ("stu2", "Student Two", "School2", False),
    ("tea2", "Teacher Two", "School2", True),
    ("office", "District Office", "District Office", False),
)

#: The script as the article writes it (policy parameters in its order).
NSD_SCRIPT = f"""\
New-OrganizationSegment -Name "School1" -UserGroupFilter "Department -eq 'School1'"
New-OrganizationSegment -Name "School2" -UserGroupFilter "Department -eq 'School2'"
New-OrganizationSegment -Name "AllTeachers" -UserGroupFilter "MemberOfGroup -eq '{TEACHERS_MAIL}'"
New-InformationBarrierPolicy -Name School1Policy -SegmentsAllowed 'School1' -AssignedSegment 'School1' -State Active
New-InformationBarrierPolicy -Name School2Policy -SegmentsAllowed 'School2' -AssignedSegment 'School2' -State Active
New-InformationBarrierPolicy -Name AllTeachersPolicy -SegmentsAllowed 'AllTeachers' -AssignedSegment 'AllTeachers' -State Active
Start-InformationBarrierPoliciesApplication
"""  # noqa: E501

SEGMENTS_OF = {
    upn("stu1a"): ["School1"],
    upn("stu1b"): ["School1"],
    upn("tea1"): ["School1", "AllTeachers"],
    upn("stu2"): ["School2"],
    upn("tea2"): ["School2", "AllTeachers"],
    upn("office"): [],
}

#: §6 MultiSegment, pair by pair (unordered).
EXPECTED = {
    # Same school: School1 permits School1.
    frozenset({"stu1a", "stu1b"}): True,
    frozenset({"stu1a", "tea1"}): True,
    frozenset({"stu2", "tea2"}): True,
    # Teachers of different schools share AllTeachers.
    frozenset({"tea1", "tea2"}): True,
    # Students of different schools: School1 and School2 allow only themselves.
    frozenset({"stu1a", "stu2"}): False,
    # A student and the other school's teacher: no segment of one is permitted with a
    # segment of the other (School1 vs School2 / AllTeachers).
    frozenset({"stu1a", "tea2"}): False,
    frozenset({"tea1", "stu2"}): False,
    # Users in no segment: only one side segmented and every segment is open outside
    # Legacy mode.
    frozenset({"stu1a", "office"}): True,
    frozenset({"tea2", "office"}): True,
}


def write_directory(cli: Any, tmp_path: Path, tenant: str) -> None:
    users = tmp_path / f"{tenant}-users.csv"
    users.write_text(
        "userPrincipalName,displayName,department,accountEnabled,usageLocation\n"
        + "".join(f"{upn(p[0])},{p[1]},{p[2]},True,US\n" for p in PEOPLE),
        encoding="utf-8",
    )
    cli.ok("users", "import", str(users), tenant=tenant)
    groups = tmp_path / f"{tenant}-groups.csv"
    groups.write_text(
        "groupDisplayName,groupMail,memberUserPrincipalName\n"
        + "".join(f"All Teachers,{TEACHERS_MAIL},{upn(p[0])}\n" for p in PEOPLE if p[3]),
        encoding="utf-8",
    )
    cli.ok("groups", "import", str(groups), tenant=tenant)


@pytest.fixture
def nsd(cli: Any, tmp_path: Path) -> Any:
    out = cli.ok("tenants", "create", TENANT, "--mode", "MultiSegment")
    assert "MultiSegment" in out
    write_directory(cli, tmp_path, TENANT)
    script = tmp_path / "nsd.ps1"
    script.write_text(NSD_SCRIPT, encoding="utf-8")
    out = cli.ok("powershell", "import", str(script), tenant=TENANT)
    assert "3 segments, 3 policies, 1 application(s)" in out
    cli.tenant = TENANT
    return cli


def test_tenant_is_multisegment_and_applied(nsd: Any) -> None:
    tenants = {t["name"]: t for t in json.loads(nsd.ok("tenants", "list", "--json"))}
    assert tenants[TENANT]["mode"] == "MultiSegment"
    status = json.loads(nsd.ok("status", "--json"))
    assert status[0]["status"] == "Completed"
    assert status[0]["failed_recipients"] == 0  # two segments per teacher is within 10
    for user, segments in SEGMENTS_OF.items():
        data = json.loads(nsd.ok("recipient", user, "--json"))
        assert data["segments"] == segments, user
        assert data["errors"] == [], user
    teacher = json.loads(nsd.ok("recipient", upn("tea1"), "--json"))
    assert sorted(teacher["policies"]) == ["AllTeachersPolicy", "School1Policy"]


def test_verdicts_follow_the_multisegment_rule(nsd: Any) -> None:
    problems = []
    for pair, allowed in EXPECTED.items():
        for a, b in itertools.permutations(sorted(pair)):
            result = nsd("check", "--action", "chat", upn(a), upn(b), "--json")
            verdict = json.loads(result.out)
            if verdict["allowed"] is not allowed or result.code != (0 if allowed else 1):
                problems.append(f"{a} -> {b}: exit {result.code}, {verdict}")
            elif not allowed:
                assert verdict["code"] == "blocked_by_policy", verdict
                assert verdict["policy"] in {
                    "School1Policy",
                    "School2Policy",
                    "AllTeachersPolicy",
                }, verdict
    assert not problems, "\n".join(problems)


def test_teachers_reason_names_the_shared_segment(nsd: Any) -> None:
    data = json.loads(nsd.ok("recipient", upn("tea1"), upn("tea2"), "--json"))
    assert data["relationship"]["allowed"] is True
    assert "AllTeachers" in data["relationship"]["reason"]


def test_group_chat_refusal_names_first_incompatible_pair(nsd: Any) -> None:
    # Pairs in order: (stu1a, tea1), (stu1a, tea2), (tea1, tea2); the second is refused.
    result = nsd(
        "check", "--action", "group-chat", upn("stu1a"), upn("tea1"), upn("tea2"), "--json"
    )
    assert result.code == 1
    assert json.loads(result.out)["pair"] == [upn("stu1a"), upn("tea2")]
    result = nsd("check", "--action", "call", upn("tea1"), upn("tea2"), upn("stu1b"), "--json")
    assert result.code == 1
    assert json.loads(result.out)["pair"] == [upn("tea2"), upn("stu1b")]
    result = nsd("check", "--action", "group-chat", upn("tea1"), upn("stu1a"), upn("stu1b"))
    assert result.code == 0


def test_matrix_lists_the_three_segments(nsd: Any) -> None:
    data = json.loads(nsd.ok("matrix", "--format", "json"))
    assert data["segments"] == ["School1", "School2", "AllTeachers", "(none)"]
    assert data["users"] == [3, 2, 2, 1]
    cells = {(c["a"], c["b"]): c["allowed"] for c in data["cells"]}
    assert cells[("School1", "School1")] is True
    assert cells[("School1", "School2")] is False
    assert cells[("School1", "AllTeachers")] is False
    assert cells[("AllTeachers", "AllTeachers")] is True
    assert cells[("School2", "(none)")] is True


# -- MultiSegment allows only allow lists (§1, §4) ----------------------------------------------


def snapshot(cli: Any) -> tuple[str, str]:
    return cli.ok("segments", "list", "--json"), cli.ok("policies", "list", "--json")


def test_block_policy_is_refused_naming_the_rule(nsd: Any) -> None:
    nsd.ok("segments", "new", "Office", "--filter", "Department -eq 'District Office'")
    before = snapshot(nsd)
    result = nsd("policies", "new", "OfficePolicy", "--segment", "Office", "--blocked", "School1")
    assert result.code == 2
    assert "policy.multisegment_allow_only" in result.err
    assert snapshot(nsd) == before
    result = nsd("policies", "set", "School1Policy", "--blocked", "School2")
    assert result.code == 2
    assert "policy.multisegment_allow_only" in result.err
    assert snapshot(nsd) == before
    # An allow list for the same segment is fine.
    nsd.ok(
        "policies", "new", "OfficePolicy", "--segment", "Office", "--allowed", "Office", "School1"
    )


def test_block_policy_in_a_script_is_refused(nsd: Any, tmp_path: Path) -> None:
    before = snapshot(nsd)
    script = tmp_path / "block.ps1"
    script.write_text(
        "New-OrganizationSegment -Name Office "
        "-UserGroupFilter \"Department -eq 'District Office'\"\n"
        "New-InformationBarrierPolicy -Name OfficePolicy -AssignedSegment Office "
        "-SegmentsBlocked School1 -State Active\n",
        encoding="utf-8",
    )
    result = nsd("powershell", "import", str(script))
    assert result.code == 2
    assert "policy.multisegment_allow_only" in result.err
    assert "line 2" in result.err
    assert snapshot(nsd) == before


def test_mode_cannot_leave_multisegment(nsd: Any) -> None:
    result = nsd("tenants", "mode", "SingleSegment")
    assert result.code == 2
    assert "[rule mode." in result.err
    tenants = {t["name"]: t for t in json.loads(nsd.ok("tenants", "list", "--json"))}
    assert tenants[TENANT]["mode"] == "MultiSegment"


def test_export_into_a_new_tenant_keeps_decisions(nsd: Any, tmp_path: Path) -> None:
    script = nsd.ok("powershell", "export")
    assert "MultiSegment" in script  # a new tenant starts SingleSegment
    exported = tmp_path / "nsd-export.ps1"
    exported.write_text(script, encoding="utf-8")
    nsd.ok("tenants", "create", "nsd-copy")
    write_directory(nsd, tmp_path, "nsd-copy")
    nsd.ok("powershell", "import", str(exported), tenant="nsd-copy")
    batch = tmp_path / "pairs.jsonl"
    batch.write_text(
        "".join(
            json.dumps({"action": "chat", "from": a, "to": [b]}) + "\n"
            for a, b in itertools.permutations(SEGMENTS_OF, 2)
        ),
        encoding="utf-8",
    )
    assert nsd.ok("check", "--batch", str(batch)) == nsd.ok(
        "check", "--batch", str(batch), tenant="nsd-copy"
    )


def test_script_that_sets_multisegment_then_applies_uses_multisegment(
    cli: Any, tmp_path: Path
) -> None:
    """Set-PolicyConfig -InformationBarrierMode MultiSegment, then the NSD script, in one
    file imported into a new (SingleSegment) tenant: the application runs in MultiSegment
    mode, so teachers (two segments each) are not in IBPolicyConflict."""
    cli.ok("tenants", "create", "nsd2")
    cli.tenant = "nsd2"
    write_directory(cli, tmp_path, "nsd2")
    script = tmp_path / "nsd-with-mode.ps1"
    script.write_text(
        "Set-PolicyConfig -InformationBarrierMode MultiSegment\n" + NSD_SCRIPT, encoding="utf-8"
    )
    cli.ok("powershell", "import", str(script))
    tenants = {t["name"]: t for t in json.loads(cli.ok("tenants", "list", "--json"))}
    assert tenants["nsd2"]["mode"] == "MultiSegment"
    status = json.loads(cli.ok("status", "--json"))
    assert status[0]["failed_recipients"] == 0, status[0]["report"].get("conflicts")
    assert cli("check", "--action", "chat", upn("tea1"), upn("tea2")).code == 0


# -- The article's User A / B / C table -------------------------------------------------------


def test_users_sharing_a_segment_are_compatible(cli: Any, tmp_path: Path) -> None:
    """User A (1, 2), User B (3, 4), User C (2, 4): A-B not compatible, A-C and B-C are."""
    cli.ok("tenants", "create", "multi", "--mode", "MultiSegment")
    cli.tenant = "multi"
    users = tmp_path / "abc.csv"
    users.write_text(
        "userPrincipalName,displayName\n"
        "usera@x.com,User A\nuserb@x.com,User B\nuserc@x.com,User C\n",
        encoding="utf-8",
    )
    cli.ok("users", "import", str(users))
    members = {"usera": (1, 2), "userb": (3, 4), "userc": (2, 4)}
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "groupDisplayName,groupMail,memberUserPrincipalName\n"
        + "".join(f"Group {k},g{k}@x.com,{u}@x.com\n" for u, ks in members.items() for k in ks),
        encoding="utf-8",
    )
    cli.ok("groups", "import", str(groups))
    for k in range(1, 5):
        cli.ok("segments", "new", f"Segment {k}", "--filter", f"MemberOf -eq 'Group {k}'")
        cli.ok(
            "policies",
            "new",
            f"Policy {k}",
            "--segment",
            f"Segment {k}",
            "--allowed",
            f"Segment {k}",
            "--state",
            "Active",
        )
    cli.ok("apply")
    assert cli("check", "--action", "chat", "usera@x.com", "userb@x.com").code == 1
    assert cli("check", "--action", "chat", "usera@x.com", "userc@x.com").code == 0
    assert cli("check", "--action", "chat", "userb@x.com", "userc@x.com").code == 0
    assert cli("check", "--action", "chat", "userc@x.com", "userb@x.com").code == 0
