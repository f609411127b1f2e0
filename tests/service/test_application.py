"""Application (§5): epochs, what-if, conflicts, directory changes, interrupted applies."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from collections.abc import Callable

import pytest
from service_builders import ACTOR, MakeTenant

from infobarrier.core.barriers import PolicyState
from infobarrier.core.contract import make_check
from infobarrier.core.directory import new_id
from infobarrier.core.errors import Busy, Conflict
from infobarrier.service.application import Cancelled
from infobarrier.service.settings import load
from infobarrier.service.wiring import Services, build

USERS = {
    "hr@x.example": "HR",
    "sales@x.example": "Sales",
    "research@x.example": "Research",
    "none@x.example": "",
}


def chat(services: Services, tenant: str, a: str, b: str) -> bool:
    return services.decisions.check(tenant, make_check("chat", a, [b])).allowed


@pytest.fixture
def tenant(services: Services, make_tenant: MakeTenant) -> str:
    name = make_tenant("t", USERS)
    for dept in ("HR", "Sales", "Research"):
        services.barriers.new_segment(name, dept, f"Department -eq '{dept}'", ACTOR)
    services.barriers.new_policy(
        name, "Sales-Research", "Sales", ACTOR, blocked=["Research"], state=PolicyState.ACTIVE
    )
    return name


def test_nothing_counts_before_apply_and_everything_after(services: Services, tenant: str) -> None:
    assert chat(services, tenant, "sales@x.example", "research@x.example")
    app = services.applications.apply(tenant, ACTOR)
    assert app.status == "Completed"
    assert app.total_recipients == 4
    assert app.failed_recipients == 0
    assert not chat(services, tenant, "sales@x.example", "research@x.example")
    assert not chat(services, tenant, "research@x.example", "sales@x.example")  # two-way
    assert chat(services, tenant, "hr@x.example", "research@x.example")


def test_inactive_and_unapplied_edits_do_not_count(services: Services, tenant: str) -> None:
    services.applications.apply(tenant, ACTOR)
    services.barriers.set_policy(tenant, "Sales-Research", ACTOR, state=PolicyState.INACTIVE)
    assert not chat(services, tenant, "sales@x.example", "research@x.example")
    services.applications.apply(tenant, ACTOR)
    assert chat(services, tenant, "sales@x.example", "research@x.example")


def test_what_if_reports_and_changes_nothing(services: Services, tenant: str) -> None:
    preview = services.applications.what_if(tenant)
    assert {c.upn for c in preview.whatif.users_changed} == {
        "hr@x.example",
        "sales@x.example",
        "research@x.example",
    }
    assert [(p.a, p.b) for p in preview.whatif.pairs_blocked] == [("Sales", "Research")]
    assert services.applications.history(tenant) == []
    assert chat(services, tenant, "sales@x.example", "research@x.example")


def test_conflict_fails_closed_and_is_reported(services: Services, tenant: str) -> None:
    services.barriers.new_segment(tenant, "Everyone", "Department -like '*'", ACTOR)
    app = services.applications.apply(tenant, ACTOR)
    assert app.status == "Completed"
    assert app.failed_recipients == 3
    conflict = {c["upn"]: c["segments"] for c in app.report["conflicts"]}
    assert conflict["hr@x.example"] == ["HR", "Everyone"]
    assert not chat(services, tenant, "hr@x.example", "none@x.example")
    verdict = services.decisions.check(
        tenant, make_check("chat", "hr@x.example", ["none@x.example"])
    )
    assert verdict.code == "policy_conflict"


def test_directory_change_takes_effect_without_reapply(services: Services, tenant: str) -> None:
    services.applications.apply(tenant, ACTOR)
    assert chat(services, tenant, "hr@x.example", "research@x.example")
    services.directory.update_user(tenant, "hr@x.example", ACTOR, Department="Sales")
    assert not chat(services, tenant, "hr@x.example", "research@x.example")
    services.directory.update_user(tenant, "hr@x.example", ACTOR, account_enabled=False)
    verdict = services.decisions.check(
        tenant, make_check("chat", "hr@x.example", ["none@x.example"])
    )
    assert (verdict.allowed, verdict.code) == (False, "account_disabled")


def test_second_apply_refused_while_one_runs(services: Services, tenant: str) -> None:
    with services.store.transaction() as repo:
        repo.scope(repo.tenants.get(tenant)).applications.start(new_id(), "someone")
    with pytest.raises(Conflict, match="already running"):
        services.applications.apply(tenant, ACTOR)


def test_interrupted_application_reported_failed_and_next_apply_runs(
    services: Services, tenant: str
) -> None:
    services.applications.apply(tenant, ACTOR)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    app_id = new_id()
    with services.store.transaction() as repo:
        repo.scope(repo.tenants.get(tenant)).applications.start(app_id, "killed")
        repo.scope(repo.tenants.get(tenant)).applications.update(app_id, pid=int(dead.stdout))
    history = services.applications.history(tenant)
    assert history[0].id == app_id
    assert history[0].status == "Failed"
    assert "interrupted" in history[0].error
    assert services.applications.apply(tenant, ACTOR).status == "Completed"


def test_stop_marks_stopped(services: Services, tenant: str) -> None:
    app_id = new_id()
    with services.store.transaction() as repo:
        repo.scope(repo.tenants.get(tenant)).applications.start(app_id, ACTOR)
    stopped = services.applications.stop(tenant, app_id, ACTOR)
    assert stopped.status == "Stopped"
    with pytest.raises(Conflict):
        services.applications.stop(tenant, app_id, ACTOR)


def test_licensing_findings_reported(services: Services, tenant: str) -> None:
    services.directory.purchase(tenant, "SPE_E5", 1, ACTOR)
    services.directory.assign(tenant, "hr@x.example", "SPE_E5", ACTOR)
    app = services.applications.apply(tenant, ACTOR)
    findings = app.report["findings"]
    assert any("sales@x.example" in f and "INFORMATION_BARRIERS" in f for f in findings)
    assert not any("hr@x.example" in f for f in findings)
    assert not any("none@x.example" in f for f in findings)  # unsegmented: not a finding


def test_every_change_is_audited(services: Services, tenant: str) -> None:
    services.applications.apply(tenant, ACTOR)
    kinds = [e.kind for e in services.audit.entries(tenant)]
    assert kinds[:2] == ["tenant.created", "directory.users_saved"]
    assert kinds.count("segment.created") == 3
    assert "policy.created" in kinds
    assert kinds[-2:] == ["apply.started", "apply.completed"]
    count, broken = services.audit.verify(tenant)
    assert (count, broken) == (len(kinds), None)


def test_history_is_a_read_while_nothing_is_to_reap(tenant: str, db_url: str) -> None:
    """``status`` (``history``) opens no write transaction unless an interrupted
    application is to be reported: it answers while another process holds the write lock,
    and only an application left by a dead process makes it wait for that lock."""
    services = build(
        db_url, settings=dataclasses.replace(load(db=db_url), sqlite_timeout_seconds=0.2)
    )
    try:
        services.applications.apply(tenant, ACTOR)
        holder = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")
        try:
            assert services.applications.history(tenant)[0].status == "Completed"
        finally:
            holder.rollback()
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        with services.store.transaction() as repo:
            scoped = repo.scope(repo.tenants.get(tenant))
            app_id = new_id()
            scoped.applications.start(app_id, "killed")
            scoped.applications.update(app_id, pid=int(dead.stdout))
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(Busy):
                services.applications.history(tenant)
        finally:
            holder.rollback()
            holder.close()
        assert services.applications.history(tenant)[0].status == "Failed"
    finally:
        services.store.dispose()


def test_a_preview_whose_requester_has_gone_stops_and_changes_nothing(
    services: Services, tenant: str
) -> None:
    asked: list[int] = []

    def gone_after(checks: int) -> Callable[[], bool]:
        def cancelled() -> bool:
            asked.append(1)
            return len(asked) > checks

        return cancelled

    same = services.applications.what_if_draft(tenant, lambda c: c)
    assert len(asked) == 0
    everything = services.applications.what_if_draft(tenant, lambda c: c, gone_after(10**6))
    assert everything == same
    assert len(asked) > 3  # once per segment, and before reconciliation
    for checks in (0, 2, len(asked) - 1):
        asked.clear()
        with pytest.raises(Cancelled):
            services.applications.what_if_draft(tenant, lambda c: c, gone_after(checks))
        assert len(asked) == checks + 1  # stopped at the first "gone"
    assert services.applications.history(tenant) == []
    assert chat(services, tenant, "sales@x.example", "research@x.example")
