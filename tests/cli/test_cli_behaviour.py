"""CLI behaviour: validation, definitions vs. the epoch in force, apply, status, directory
changes, all-or-nothing imports, tenants and the audit log (semantics §1-§5, §9; docs/interfaces.md,
"Names people will type")."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infobarrier.cli.main import run as run_cli
from infobarrier.core.directory import new_id
from infobarrier.store.database import Store

TENANT = "t"
DOMAIN = "t.example"


def upn(local: str) -> str:
    return f"{local}@{DOMAIN}"


USERS_CSV = (
    "userPrincipalName,displayName,department,companyName,accountEnabled\n"
    f"{upn('hr1')},HR One,HR,T,True\n"
    f"{upn('hr2')},HR Two,HR,T,True\n"
    f"{upn('sales1')},Sales One,Sales,T,True\n"
    f"{upn('sales2')},Sales Two,Sales,T,True\n"
    f"{upn('res1')},Research One,Research,T,True\n"
    f"{upn('none1')},Nobody One,,T,True\n"
)


@dataclass(frozen=True)
class Template:
    """A database with tenant ``t`` set up once per module; each test gets a copy."""

    path: Path
    segments: str
    policies: str
    audit: str


def _call(url: str, *args: str) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run_cli(["--db", url, "--tenant", TENANT, *args])
    assert code == 0, (args, buffer.getvalue())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Tenant ``t``: six users, segments HR, Sales, Research, and an Inactive policy
    ``Sales-Research`` (Sales blocks Research). Nothing applied."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "base.db"
    url = f"sqlite:///{path}"
    _call(url, "tenants", "create", TENANT)
    users = folder / "users.csv"
    users.write_text(USERS_CSV, encoding="utf-8")
    _call(url, "users", "import", str(users))
    for name in ("HR", "Sales", "Research"):
        _call(url, "segments", "new", name, "--filter", f"Department -eq '{name}'")
    _call(url, "policies", "new", "Sales-Research", "--segment", "Sales", "--blocked", "Research")
    return Template(
        path,
        _call(url, "segments", "list", "--json"),
        _call(url, "policies", "list", "--json"),
        _call(url, "audit", "list", "--json"),
    )


@pytest.fixture
def base(cli: Any, template: Template, db_url: str) -> Any:
    """A copy of the template database, with ``cli.tenant`` set to ``t``."""
    target = Path(db_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm", ".audit-key", ".audit-key.heads.json"):
        source = Path(f"{template.path}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{target}{suffix}")
    cli.tenant = TENANT
    return cli


def run(cli: Any, *args: str, tenant: str | None = None) -> Any:
    """Run the CLI; an exception escaping it is a failure (it should exit 2)."""
    try:
        return cli(*args, tenant=tenant)
    except Exception as exc:
        pytest.fail(f"{args} raised {type(exc).__name__}: {exc} instead of exiting with a code")


def snapshot(cli: Any) -> tuple[str, str]:
    return cli.ok("segments", "list", "--json"), cli.ok("policies", "list", "--json")


def verdict(cli: Any, action: str, sender: str, *to: str) -> dict[str, Any]:
    result = cli("check", "--action", action, upn(sender), *(upn(t) for t in to), "--json")
    data = json.loads(result.out)
    assert result.code == (0 if data["allowed"] else 1)
    return dict(data)


def allowed(cli: Any, a: str, b: str) -> bool:
    return bool(verdict(cli, "chat", a, b)["allowed"])


def epoch_of(cli: Any) -> int:
    return int(json.loads(cli.ok("recipient", upn("hr1"), "--json"))["epoch"])


# -- validation: exit 2, the rule or the column named, nothing saved ---------------------------

LONG = "x" * 65

SEGMENT_ERRORS = [
    (("segments", "new", "hr", "--filter", "Department -eq 'HR'"), "[rule segment.name_unique]"),
    (("segments", "new", LONG, "--filter", "Department -eq 'HR'"), "[rule segment.name_length]"),
    (("segments", "new", " ", "--filter", "Department -eq 'HR'"), "[rule segment.name_length]"),
    (("segments", "new", "Bad", "--filter", "Department -eq 'HR' -and Foo -eq 'x'"), "column 26"),
    (("segments", "new", "Bad", "--filter", "Department -eq 'HR"), "column 16"),
    (("segments", "new", "Bad", "--filter", "Department -eq 'HR' extra"), "column 21"),
    (("segments", "new", "Bad", "--filter", "Department -eq"), "column 15"),
    (("segments", "new", "Bad", "--filter", "(Department -eq 'HR'"), "column "),
    (("segments", "set", "HR", "--filter", "Department -eq 'HR' -or"), "column "),
    (("segments", "set", "HR", "--filter", "Departmnt -eq 'HR'"), "column 1"),
    (("segments", "remove", "Sales"), "[rule segment.referenced]"),
    (("segments", "remove", "research"), "[rule segment.referenced]"),
]

POLICY_ERRORS = [
    (
        ("policies", "new", "P2", "--segment", "Sales", "--blocked", "HR"),
        "[rule policy.one_per_segment]",
    ),
    (
        ("policies", "new", "sales-research", "--segment", "HR", "--blocked", "Sales"),
        "[rule policy.name_unique]",
    ),
    (
        ("policies", "new", "P2", "--segment", "HR", "--blocked", "Sales", "sales"),
        "[rule policy.list_duplicate]",
    ),
    (
        ("policies", "new", "P2", "--segment", "HR", "--blocked", "Nope"),
        "[rule policy.listed_segment_exists]",
    ),
    (
        ("policies", "new", "P2", "--segment", "Nope", "--blocked", "Sales"),
        "[rule policy.segment_exists]",
    ),
    (
        ("policies", "new", "P2", "--segment", "HR", "--blocked", "Sales", "--allowed", "HR"),
        "[rule policy.one_list]",
    ),
    (("policies", "new", "P2", "--segment", "HR"), "[rule policy.one_list]"),
    (
        ("policies", "new", "P2", "--segment", "HR", "--blocked", "Sales", "--state", "Maybe"),
        "[rule policy.state]",
    ),
    (
        ("policies", "new", LONG, "--segment", "HR", "--blocked", "Sales"),
        "[rule policy.name_length]",
    ),
    (
        ("policies", "set", "Sales-Research", "--allowed", "HR", "--blocked", "Research"),
        "[rule policy.one_list]",
    ),
    (("policies", "set", "Sales-Research", "--blocked", "Nope"), "[rule policy.listed_segment"),
    (
        ("policies", "set", "Sales-Research", "--allowed", "Sales", "SALES"),
        "[rule policy.list_duplicate]",
    ),
    (("policies", "set", "Sales-Research", "--state", "Maybe"), "[rule policy.state]"),
    (("tenants", "mode", "MultiSegment"), "[rule mode.requires_empty]"),
    (("tenants", "mode", "Bogus"), "[rule mode.name]"),
]


@pytest.mark.parametrize(("args", "named"), SEGMENT_ERRORS + POLICY_ERRORS)
def test_validation_error_exits_2_names_the_rule_and_saves_nothing(
    base: Any, template: Template, args: tuple[str, ...], named: str
) -> None:
    result = run(base, *args)
    assert result.code == 2, (result.out, result.err)
    assert named in result.err
    assert result.err.startswith("error: ")
    assert snapshot(base) == (template.segments, template.policies)
    assert base.ok("audit", "list", "--json") == template.audit
    if args[0] == "tenants":
        assert json.loads(base.ok("tenants", "list", "--json"))[0]["mode"] == "SingleSegment"


@pytest.mark.parametrize(
    "args",
    [
        ("segments", "show", "Nope"),
        ("segments", "set", "Nope", "--filter", "Department -eq 'HR'"),
        ("segments", "remove", "Nope"),
        ("policies", "show", "Nope"),
        ("policies", "set", "Nope", "--state", "Active"),
        ("policies", "remove", "Nope"),
    ],
)
def test_unknown_names_exit_2(base: Any, template: Template, args: tuple[str, ...]) -> None:
    result = run(base, *args)
    assert result.code == 2
    assert "'Nope'" in result.err
    assert snapshot(base) == (template.segments, template.policies)


@pytest.mark.parametrize(
    "args",
    [
        # An empty list: --allowed without a value (semantics §4: the list is non-empty).
        ("policies", "new", "P2", "--segment", "HR", "--allowed"),
        ("policies", "new", "P2", "--segment", "HR", "--allowed", "--state", "Active"),
        # A required option missing.
        ("segments", "new", "Legal"),
        # An option the command does not have.
        ("segments", "list", "--colour"),
    ],
)
def test_usage_errors_exit_2_and_save_nothing(
    base: Any, template: Template, args: tuple[str, ...]
) -> None:
    """docs/interfaces.md: exit code 2 for bad input, errors on stderr, no traceback."""
    result = run(base, *args)
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    assert snapshot(base) == (template.segments, template.policies)


# -- segments and policies: new / set / show / list / remove -----------------------------------


def test_segments_new_show_list_set_remove(base: Any) -> None:
    out = base.ok(
        "segments", "new", "Legal", "--filter", "Department -eq 'Legal' -or Company -eq 'Law'"
    )
    assert "Legal" in out
    shown = base.ok("segments", "show", "legal")
    assert "Legal" in shown
    assert "Department -eq 'Legal' -or Company -eq 'Law'" in shown
    assert "0 match now" in shown
    assert "(none)" in shown  # no policy
    listed = {s["name"]: s for s in json.loads(base.ok("segments", "list", "--json"))}
    assert list(listed) == ["HR", "Sales", "Research", "Legal"]
    assert listed["HR"]["users"] == 2
    assert listed["Sales"]["policy"] == "Sales-Research"
    assert listed["Legal"]["policy"] is None
    table = base.ok("segments", "list")
    assert "Legal" in table
    assert "Sales-Research" in table
    base.ok("segments", "set", "Legal", "--filter", "Company -eq 'T'")
    assert "6 match now" in base.ok("segments", "show", "Legal")
    base.ok("segments", "remove", "Legal")
    assert [s["name"] for s in json.loads(base.ok("segments", "list", "--json"))] == [
        "HR",
        "Sales",
        "Research",
    ]
    assert base("segments", "show", "Legal").code == 2


def test_policies_new_show_list_set_remove(base: Any) -> None:
    result = base(
        "policies",
        "new",
        "HR-Only",
        "--segment",
        "HR",
        "--allowed",
        "HR",
        "Sales",
        "--state",
        "Active",
        "--comment",
        "people team",
    )
    assert result.code == 0
    shown = base.ok("policies", "show", "hr-only")
    assert "HR-Only" in shown
    assert "people team" in shown
    assert "Active" in shown
    listed = {p["name"]: p for p in json.loads(base.ok("policies", "list", "--json"))}
    assert listed["HR-Only"] == {
        "name": "HR-Only",
        "segment": "HR",
        "kind": "allow",
        "segments": ["HR", "Sales"],
        "state": "Active",
        "moderation_allowed": False,
        "comment": "people team",
    }
    assert listed["Sales-Research"]["state"] == "Inactive"  # the default state
    base.ok("policies", "set", "HR-Only", "--state", "Inactive", "--comment", "paused")
    listed = {p["name"]: p for p in json.loads(base.ok("policies", "list", "--json"))}
    assert listed["HR-Only"]["state"] == "Inactive"
    assert listed["HR-Only"]["comment"] == "paused"
    assert listed["HR-Only"]["segments"] == ["HR", "Sales"]  # the list is kept
    assert "HR-Only" in base.ok("policies", "list")
    base.ok("policies", "remove", "HR-Only")
    assert "HR-Only" not in base.ok("policies", "list", "--json")
    # Once no policy references it, a segment can be removed.
    base.ok("policies", "remove", "Sales-Research")
    base.ok("segments", "remove", "Research")


def test_allow_list_without_own_segment_warns(base: Any) -> None:
    result = base("policies", "new", "HR-Out", "--segment", "HR", "--allowed", "Sales")
    assert result.code == 0
    assert "warning" in result.err
    assert "HR" in result.err


def test_allowed_takes_several_values(base: Any) -> None:
    base.ok(
        "policies", "new", "HR-Allow", "--segment", "HR", "--allowed", "HR", "Sales", "Research",
        "--state", "Active",
    )  # fmt: skip
    # The list option may also come before the other options.
    base.ok(
        "segments", "new", "Legal", "--filter", "Department -eq 'Legal'",
    )  # fmt: skip
    base.ok("policies", "new", "Legal-Allow", "--allowed", "Legal", "HR", "--segment", "Legal")
    policies = {p["name"]: p for p in json.loads(base.ok("policies", "list", "--json"))}
    assert policies["HR-Allow"]["segments"] == ["HR", "Sales", "Research"]
    assert policies["HR-Allow"]["state"] == "Active"
    assert policies["Legal-Allow"]["segment"] == "Legal"
    assert policies["Legal-Allow"]["segments"] == ["Legal", "HR"]
    # set: the other kind of list replaces the list, several values again.
    base.ok("policies", "set", "Sales-Research", "--blocked", "Research", "HR", "Legal")
    policies = {p["name"]: p for p in json.loads(base.ok("policies", "list", "--json"))}
    assert policies["Sales-Research"]["kind"] == "block"
    assert policies["Sales-Research"]["segments"] == ["Research", "HR", "Legal"]
    base.ok("policies", "set", "Sales-Research", "--allowed", "Sales", "HR", "--state", "Active")
    policies = {p["name"]: p for p in json.loads(base.ok("policies", "list", "--json"))}
    assert policies["Sales-Research"]["kind"] == "allow"
    assert policies["Sales-Research"]["segments"] == ["Sales", "HR"]
    assert policies["Sales-Research"]["state"] == "Active"


# -- §4: nothing takes effect until Active and applied ----------------------------------------


def test_policy_edits_take_effect_only_when_applied(base: Any) -> None:
    base.ok("apply")
    # The policy is Inactive: not in the epoch.
    assert allowed(base, "sales1", "res1")
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    assert allowed(base, "sales1", "res1")  # defined, not applied
    base.ok("apply")
    assert not allowed(base, "sales1", "res1")
    assert verdict(base, "chat", "res1", "sales1")["policy"] == "Sales-Research"

    # A new list: the old one stays in force until apply.
    base.ok("policies", "set", "Sales-Research", "--blocked", "HR")
    assert not allowed(base, "sales1", "res1")
    assert allowed(base, "sales1", "hr1")
    base.ok("apply")
    assert allowed(base, "sales1", "res1")
    assert not allowed(base, "sales1", "hr1")

    # A segment's filter: the epoch keeps its own copy.
    base.ok("segments", "set", "Sales", "--filter", "Department -eq 'Nobody'")
    data = json.loads(base.ok("recipient", upn("sales1"), "--json"))
    assert data["segments"] == ["Sales"]
    assert not allowed(base, "sales1", "hr1")

    # Removing the policy and the segment: still in force until apply.
    base.ok("policies", "remove", "Sales-Research")
    base.ok("segments", "remove", "Sales")
    assert not allowed(base, "sales1", "hr1")
    assert "Sales-Research" in base.ok("matrix", "--format", "json")
    base.ok("apply")
    assert allowed(base, "sales1", "hr1")
    assert json.loads(base.ok("recipient", upn("sales1"), "--json"))["segments"] == []


def test_nobody_is_segmented_before_the_first_apply(base: Any) -> None:
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    data = verdict(base, "chat", "sales1", "res1")
    assert data["allowed"] is True
    assert data["code"] == "unsegmented"
    assert json.loads(base.ok("recipient", upn("sales1"), "--json"))["segments"] == []


# -- apply --what-if -----------------------------------------------------------------------------


def test_what_if_before_the_first_apply_changes_nothing(base: Any) -> None:
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    preview = json.loads(base.ok("apply", "--what-if", "--json"))
    changed = {c["upn"]: (c["before"], c["after"]) for c in preview["users_changed"]}
    assert changed == {
        upn("hr1"): ([], ["HR"]),
        upn("hr2"): ([], ["HR"]),
        upn("sales1"): ([], ["Sales"]),
        upn("sales2"): ([], ["Sales"]),
        upn("res1"): ([], ["Research"]),
    }
    blocked = {(p["a"], p["b"]) for p in preview["pairs_blocked"]}
    assert blocked == {("Sales", "Research")}
    assert preview["pairs_allowed"] == []
    assert preview["new_conflicts"] == []
    assert preview["total_recipients"] == 6
    out = base.ok("apply", "--what-if")
    assert "nothing has changed" in out
    assert "Sales <-> Research" in out
    # Still nothing applied.
    assert json.loads(base.ok("status", "--json")) == []
    assert "NotStarted" in base.ok("status")
    assert epoch_of(base) == 0
    assert allowed(base, "sales1", "res1")


def test_what_if_after_an_apply_changes_nothing(base: Any) -> None:
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    base.ok("apply")
    epoch = epoch_of(base)
    status = base.ok("status", "--json")
    audit = json.loads(base.ok("audit", "list", "--json"))
    # Lift the block, and put hr2 in a second segment (SingleSegment: a conflict).
    base.ok("policies", "set", "Sales-Research", "--state", "Inactive")
    base.ok("segments", "new", "Leads", "--filter", f"UserPrincipalName -eq '{upn('hr2')}'")
    preview = json.loads(base.ok("apply", "--what-if", "--json"))
    assert {(p["a"], p["b"]) for p in preview["pairs_allowed"]} >= {("Sales", "Research")}
    assert preview["new_conflicts"] == [{"upn": upn("hr2"), "segments": ["HR", "Leads"]}]
    assert [c["upn"] for c in preview["conflicts"]] == [upn("hr2")]
    assert {c["upn"]: c["after"] for c in preview["users_changed"]} == {upn("hr2"): ["HR", "Leads"]}
    out = base.ok("apply", "--what-if")
    assert "newly allowed: Sales <-> Research" in out
    assert f"new IBPolicyConflict: {upn('hr2')} in HR, Leads" in out
    assert f"user {upn('hr2')}: HR -> HR, Leads" in out
    # Nothing changed: same epoch, same status history, same decisions.
    assert epoch_of(base) == epoch
    assert base.ok("status", "--json") == status
    assert not allowed(base, "sales1", "res1")
    assert allowed(base, "hr2", "hr1")
    # Only the two definition edits were audited, no application.
    kinds = [e["kind"] for e in json.loads(base.ok("audit", "list", "--json"))[len(audit) :]]
    assert kinds == ["policy.updated", "segment.created"]


def test_what_if_with_nothing_to_change(base: Any) -> None:
    base.ok("apply")
    out = base.ok("apply", "--what-if")
    assert "would change nothing" in out


# -- status --------------------------------------------------------------------------------------

APPLICATION_KEYS = {
    "id",
    "number",
    "status",
    "actor",
    "started",
    "ended",
    "total_recipients",
    "failed_recipients",
    "percent",
    "error",
    "report",
}


def test_status_last_all_and_json(base: Any) -> None:
    assert "NotStarted" in base.ok("status")
    assert "NotStarted" in base.ok("status", "--all")
    assert json.loads(base.ok("status", "--json")) == []
    assert json.loads(base.ok("status", "--all", "--json")) == []
    base.ok("apply")
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    base.ok("apply")
    last = base.ok("status")
    assert "application 2 [Completed]" in last
    assert "application 1" not in last
    assert "6 recipients, 0 failed, 100%" in last
    every = base.ok("status", "--all")
    assert every.index("application 2 [Completed]") < every.index("application 1 [Completed]")
    one = json.loads(base.ok("status", "--json"))
    assert len(one) == 1
    assert set(one[0]) == APPLICATION_KEYS
    assert one[0]["number"] == 2
    assert one[0]["status"] == "Completed"
    assert one[0]["percent"] == 100
    assert one[0]["ended"] is not None
    assert one[0]["error"] is None
    assert one[0]["actor"].startswith("cli:")
    history = json.loads(base.ok("status", "--all", "--json"))
    assert [a["number"] for a in history] == [2, 1]
    assert all(a["status"] == "Completed" for a in history)
    assert history[0]["report"]["changes"]["pairs_blocked"][0]["a"] == "Sales"


def test_second_apply_while_one_runs_is_refused(base: Any, db_url: str) -> None:
    # An application of a live process (this one) that has not finished.
    store = Store(db_url)
    try:
        with store.transaction() as repo:
            running = repo.scope(repo.tenants.get(TENANT)).applications.start(new_id(), "cli:other")
    finally:
        store.dispose()
    result = run(base, "apply")
    assert result.code == 2
    assert "already running" in result.err
    assert running.id in result.err
    history = json.loads(base.ok("status", "--all", "--json"))
    assert [a["status"] for a in history] == ["InProgress"]


# -- IBPolicyConflict: reported by apply, fail closed ----------------------------------------


def test_conflict_user_is_reported_and_blocked_with_everyone(base: Any) -> None:
    base.ok("users", "set", upn("hr2"), "Company=Leads")
    base.ok("segments", "new", "Leads", "--filter", "Company -eq 'Leads'")
    result = base("apply", "--json")
    assert result.code == 0
    app = json.loads(result.out)
    assert app["status"] == "Completed"  # the application still completes (§5)
    assert app["failed_recipients"] == 1
    assert app["total_recipients"] == 6
    assert app["report"]["conflicts"] == [
        {"upn": upn("hr2"), "error": "IBPolicyConflict", "segments": ["HR", "Leads"]}
    ]
    status = base.ok("status")
    assert "1 failed" in status
    assert f"IBPolicyConflict: {upn('hr2')} matches HR, Leads" in status
    # Fail closed: incompatible with every other user, segmented or not.
    for other in ("hr1", "sales1", "res1", "none1"):
        data = verdict(base, "chat", "hr2", other)
        assert data["allowed"] is False, other
        assert data["code"] == "policy_conflict", data
        assert verdict(base, "chat", other, "hr2")["allowed"] is False
    assert verdict(base, "search", "none1", "hr1", "hr2")["pair"] == [upn("none1"), upn("hr2")]
    recipient = json.loads(base.ok("recipient", upn("hr2"), "--json"))
    assert any("IBPolicyConflict" in e for e in recipient["errors"])
    assert recipient["segments"] == ["HR", "Leads"]
    # Fixed in the directory: at once, without re-apply.
    base.ok("users", "set", upn("hr2"), "Company=T")
    assert allowed(base, "hr2", "hr1")
    assert len(json.loads(base.ok("status", "--all", "--json"))) == 1


# -- §5: directory changes take effect at once ---------------------------------------------------


def test_directory_changes_take_effect_without_apply(base: Any, tmp_path: Path) -> None:
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    base.ok("apply")
    assert not allowed(base, "sales1", "res1")
    base.ok("users", "set", upn("res1"), "Department=Sales")
    assert allowed(base, "sales1", "res1")
    assert json.loads(base.ok("recipient", upn("res1"), "--json"))["segments"] == ["Sales"]
    # A users CSV re-import (update in place, keyed by UPN).
    again = tmp_path / "again.csv"
    again.write_text(
        f"userPrincipalName,department\n{upn('sales2')},Research\n{upn('none1')},Research\n",
        encoding="utf-8",
    )
    out = base.ok("users", "import", str(again))
    assert "0 users created, 2 updated" in out
    assert not allowed(base, "sales1", "sales2")
    assert not allowed(base, "none1", "sales1")
    assert allowed(base, "none1", "sales2")
    # An empty cell clears the value: res1 is in no segment any more.
    cleared = tmp_path / "cleared.csv"
    cleared.write_text(f"userPrincipalName,department\n{upn('res1')},\n", encoding="utf-8")
    base.ok("users", "import", str(cleared))
    assert json.loads(base.ok("recipient", upn("res1"), "--json"))["segments"] == []
    assert verdict(base, "chat", "res1", "sales2")["code"] == "one_unsegmented"
    # A disabled account is blocked with everyone, at once.
    base.ok("users", "set", upn("hr1"), "AccountEnabled=False")
    data = verdict(base, "chat", "hr2", "hr1")
    assert data["allowed"] is False
    assert data["code"] == "account_disabled"
    # No re-apply happened.
    assert len(json.loads(base.ok("status", "--all", "--json"))) == 1


def test_users_set_attribute_names_are_case_insensitive(base: Any) -> None:
    """§2: attribute names are case-insensitive; ``users set`` says an empty value clears."""
    base.ok("apply")
    base.ok("users", "set", upn("res1"), "department=Sales")
    assert json.loads(base.ok("recipient", upn("res1"), "--json"))["segments"] == ["Sales"]
    base.ok("users", "set", upn("res1"), "department=")
    users = {u["upn"]: u for u in json.loads(base.ok("users", "list", "--json"))}
    assert users[upn("res1")]["department"] == ""
    assert json.loads(base.ok("recipient", upn("res1"), "--json"))["segments"] == []


def test_users_set_rejects_bad_input(base: Any) -> None:
    before = base.ok("users", "list", "--json")
    for args in (
        ("users", "set", upn("res1"), "Nonsense=1"),
        ("users", "set", upn("res1"), "Department"),
        ("users", "set", upn("res1"), "AccountEnabled=maybe"),
        ("users", "set", upn("ghost"), "Department=HR"),
    ):
        result = run(base, *args)
        assert result.code == 2, args
        assert result.err.startswith("error: ")
    assert base.ok("users", "list", "--json") == before


# -- imports are all or nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_row", "named"),
    [
        (f"{upn('late')},Late,Sales,T,maybe", "line 4"),  # fails while parsing
        (f"{upn('late')},Late,Sales,T,True,No Such Group", "line 4"),  # fails while merging
    ],
)
def test_users_csv_failing_on_a_late_row_changes_nothing(
    base: Any, tmp_path: Path, last_row: str, named: str
) -> None:
    base.ok("apply")
    before = base.ok("users", "list", "--json")
    decisions = base.ok("matrix", "--format", "json")
    header = "userPrincipalName,displayName,department,companyName,accountEnabled"
    if last_row.count(",") == 5:
        header += ",MemberOf"
        rows = [f"{upn('new1')},New One,HR,T,True,", f"{upn('hr1')},HR One,Sales,T,False,"]
    else:
        rows = [f"{upn('new1')},New One,HR,T,True", f"{upn('hr1')},HR One,Sales,T,False"]
    bad = tmp_path / "late.csv"
    bad.write_text("\n".join([header, *rows, last_row]) + "\n", encoding="utf-8")
    result = run(base, "users", "import", str(bad))
    assert result.code == 2
    assert named in result.err
    assert base.ok("users", "list", "--json") == before
    assert base.ok("matrix", "--format", "json") == decisions
    assert allowed(base, "hr1", "hr2")


def test_powershell_script_failing_on_its_last_line_changes_nothing(
    cli: Any, tmp_path: Path
) -> None:
    cli.ok("tenants", "create", TENANT)
    cli.tenant = TENANT
    users = tmp_path / "users.csv"
    users.write_text(USERS_CSV, encoding="utf-8")
    cli.ok("users", "import", str(users))
    audit = json.loads(cli.ok("audit", "list", "--json"))
    script = tmp_path / "bad.ps1"
    script.write_text(
        "New-OrganizationSegment -Name HR -UserGroupFilter \"Department -eq 'HR'\"\n"
        "New-OrganizationSegment -Name Sales -UserGroupFilter \"Department -eq 'Sales'\"\n"
        "New-InformationBarrierPolicy -Name Sales-HR -AssignedSegment Sales "
        "-SegmentsBlocked HR -State Active\n"
        "Start-InformationBarrierPoliciesApplication\n"
        "New-InformationBarrierPolicy -Name HR-Sales -AssignedSegment HR "
        "-SegmentsBlocked Nope -State Active\n",
        encoding="utf-8",
    )
    result = run(cli, "powershell", "import", str(script))
    assert result.code == 2
    assert "line 5" in result.err
    assert "Nope" in result.err
    assert json.loads(cli.ok("segments", "list", "--json")) == []
    assert json.loads(cli.ok("policies", "list", "--json")) == []
    assert json.loads(cli.ok("status", "--all", "--json")) == []
    assert "NotStarted" in cli.ok("status")
    assert epoch_of(cli) == 0
    assert allowed(cli, "sales1", "hr1")
    assert json.loads(cli.ok("audit", "list", "--json")) == audit


def test_powershell_syntax_error_names_line_and_column(base: Any, tmp_path: Path) -> None:
    before = snapshot(base)
    script = tmp_path / "syntax.ps1"
    script.write_text(
        "New-OrganizationSegment -Name Legal -UserGroupFilter \"Department -eq 'Legal'\"\n"
        "Remove-Mailbox -Identity someone\n",
        encoding="utf-8",
    )
    result = run(base, "powershell", "import", str(script))
    assert result.code == 2
    assert "line 2, column 1" in result.err
    assert snapshot(base) == before


# -- tenants ----------------------------------------------------------------------------------


TENANT_COMMANDS = [
    ("segments", "list"),
    ("policies", "list", "--json"),
    ("status",),
    ("apply",),
    ("matrix",),
    ("check", "--action", "chat", "a@x.com", "b@x.com"),
    ("recipient", "a@x.com"),
    ("users", "list"),
    ("audit", "verify"),
]


def test_unknown_or_missing_tenant_exits_2(cli: Any) -> None:
    cli.ok("tenants", "create", "real")
    for args in TENANT_COMMANDS:
        result = run(cli, *args)  # no --tenant
        assert result.code == 2, args
        assert "no tenant given" in result.err, args
        assert "--tenant" in result.err, args
        result = run(cli, *args, tenant="ghost")
        assert result.code == 2, args
        assert "no tenant 'ghost'" in result.err, args
    assert [t["name"] for t in json.loads(cli.ok("tenants", "list", "--json"))] == ["real"]


def test_tenant_from_environment(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.ok("tenants", "create", "envt")
    monkeypatch.setenv("INFOBARRIER_TENANT", "envt")
    assert json.loads(cli.ok("segments", "list", "--json")) == []


def test_tenants_create_and_list(cli: Any) -> None:
    assert "created tenant acme (SingleSegment)" in cli.ok("tenants", "create", "acme")
    assert "Legacy" in cli.ok("tenants", "create", "old", "--mode", "legacy")
    result = run(cli, "tenants", "create", "acme")
    assert result.code == 2
    assert "already exists" in result.err
    result = run(cli, "tenants", "create", "Bad_Name")
    assert result.code == 2
    assert "[rule tenant.name]" in result.err
    tenants = json.loads(cli.ok("tenants", "list", "--json"))
    assert [(t["name"], t["mode"]) for t in tenants] == [
        ("acme", "SingleSegment"),
        ("old", "Legacy"),
    ]


def test_tenants_are_isolated(base: Any) -> None:
    base.ok("tenants", "create", "other")
    assert json.loads(base.ok("segments", "list", "--json", tenant="other")) == []
    assert json.loads(base.ok("users", "list", "--json", tenant="other")) == []
    result = base("check", "--action", "chat", upn("hr1"), upn("hr2"), tenant="other")
    assert result.code == 2


# -- audit ---------------------------------------------------------------------------------------


def test_audit_lists_changes_and_verifies(base: Any, db_url: str) -> None:
    base.ok("segments", "set", "HR", "--filter", "Department -eq 'HR' -or Department -eq 'People'")
    base.ok("policies", "set", "Sales-Research", "--state", "Active")
    base.ok("apply")
    base.ok("users", "set", upn("res1"), "Department=HR")
    base.ok("segments", "new", "Temp", "--filter", "Department -eq 'Temp'")
    base.ok("segments", "remove", "Temp")
    base.ok("policies", "new", "HR-Any", "--segment", "HR", "--blocked", "Research")
    base.ok("policies", "remove", "HR-Any")
    assert base("segments", "remove", "Sales").code == 2  # refused: not audited
    entries = json.loads(base.ok("audit", "list", "--json"))
    kinds = [e["kind"] for e in entries]
    assert kinds == [
        "tenant.created",
        "directory.users_imported",
        "segment.created",
        "segment.created",
        "segment.created",
        "policy.created",
        "segment.updated",
        "policy.updated",
        "apply.started",
        "apply.completed",
        "directory.user_updated",
        "segment.created",
        "segment.removed",
        "policy.created",
        "policy.removed",
    ]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(e["actor"].startswith("cli:") for e in entries)
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    assert entries[6]["detail"]["name"] == "HR"
    table = base.ok("audit", "list")
    assert "segment.removed" in table
    result = base("audit", "verify")
    assert result.code == 0
    assert f"intact: {len(entries)} entries" in result.out
    only = json.loads(base.ok("audit", "list", "--kind", "segment.created", "--json"))
    assert [e["seq"] for e in only] == [3, 4, 5, 12]

    # Tampering with the store is detected.
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE audit SET actor = 'cli:mallory' WHERE seq = 7")
    db.close()
    result = base("audit", "verify")
    assert result.code == 1
    assert "BROKEN at entry 7" in result.err


def test_matrix_csv_guards_names_and_matches_the_json(base: Any) -> None:
    """Segment names that a spreadsheet would run (``=...``) or that need quoting keep
    their guard and quotes; every cell is the JSON's verdict."""
    base.ok("segments", "new", "=cmd|x", "--filter", "Department -eq 'Legal'")
    base.ok("segments", "new", 'Law, "Firm"', "--filter", "Company -eq 'Law'")
    base.ok("apply")
    rows = list(csv.reader(io.StringIO(base.ok("matrix", "--format", "csv"))))
    data = json.loads(base.ok("matrix", "--format", "json"))
    names = data["segments"]
    assert "=cmd|x" in names
    guarded = ["'" + n if n.startswith("=") else n for n in names]
    assert rows[0] == ["segment", "users", *guarded]
    assert [r[0] for r in rows[1:]] == guarded
    cells = {(c["a"], c["b"]): c["allowed"] for c in data["cells"]}
    for row, name, count in zip(rows[1:], names, data["users"], strict=True):
        assert row[1] == str(count)
        assert row[2:] == ["allowed" if cells[(name, b)] else "blocked" for b in names]


def test_what_if_text_is_a_summary_at_any_size(base: Any, tmp_path: Path) -> None:
    """Forty new users in a segment, none licensed: the text names the first entries of
    each list and counts the rest; ``--json`` keeps every one."""
    more = tmp_path / "more.csv"
    rows = [f"extra{i}@contoso.example,Extra {i},HR,T,True\n" for i in range(40)]
    more.write_text(USERS_CSV.splitlines(keepends=True)[0] + "".join(rows), encoding="utf-8")
    base.ok("users", "import", str(more))
    preview = json.loads(base.ok("apply", "--what-if", "--json"))
    assert len(preview["users_changed"]) == 45  # the 40 new ones and the five segmented
    assert len(preview["findings"]) > 40
    out = base.ok("apply", "--what-if")
    assert sum(line.startswith("  user ") for line in out.splitlines()) == 20
    assert sum(line.startswith("  licensing: ") for line in out.splitlines()) == 5
    assert "... 45 users changed segments in all" in out
    assert f"... {len(preview['findings']):,} licensing findings in all" in out
    assert "every entry: apply --what-if --json" in out
