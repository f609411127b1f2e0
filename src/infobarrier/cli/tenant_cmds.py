"""``tenants``, ``audit`` and ``demo`` commands."""

from __future__ import annotations

from datetime import datetime

import typer

from infobarrier.cli import output
from infobarrier.cli.output import console, print_json, table
from infobarrier.cli.state import STATE
from infobarrier.core.barriers import parse_mode
from infobarrier.core.errors import InvalidInput

tenants = typer.Typer(help="Create and list tenants; set mode and search restriction.")
audit = typer.Typer(help="The tenant's hash-chained audit log (semantics §9).")


@tenants.command("create")
def tenants_create(
    name: str,
    mode: str = typer.Option("SingleSegment", "--mode", help="Legacy|SingleSegment|MultiSegment"),
) -> None:
    """Create a tenant (with the license catalog, no seats)."""
    tenant = STATE.services.tenants.create(name, parse_mode(mode), STATE.actor)
    console.print(f"created tenant {tenant.name} ({tenant.mode.value})", markup=False)


@tenants.command("list")
def tenants_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every tenant."""
    rows = STATE.services.tenants.list()
    if as_json:
        print_json(
            [
                {
                    "name": t.name,
                    "mode": t.mode.value,
                    "people_search_restriction": t.people_search_restriction,
                }
                for t in rows
            ]
        )
        return
    table(
        "Tenants",
        ["name", "mode", "people search restriction", "created"],
        [
            (
                t.name,
                t.mode.value,
                "Enabled" if t.people_search_restriction else "Disabled",
                f"{t.created_at:%Y-%m-%d %H:%M}",
            )
            for t in rows
        ],
    )


@tenants.command("mode")
def tenants_mode(mode: str) -> None:
    """Set-PolicyConfig -InformationBarrierMode (only while no segment and no policy)."""
    tenant = STATE.services.tenants.set_mode(STATE.tenant, parse_mode(mode), STATE.actor)
    console.print(f"{tenant.name}: mode {tenant.mode.value}", markup=False)


@tenants.command("search-restriction")
def tenants_search(value: str) -> None:
    """Set-PolicyConfig -InformationBarrierPeopleSearchRestriction Enabled|Disabled."""
    folded = value.strip().casefold()
    if folded not in ("enabled", "disabled"):
        raise InvalidInput(f"expected Enabled or Disabled, found {value!r}")
    tenant = STATE.services.tenants.set_people_search_restriction(
        STATE.tenant, folded == "enabled", STATE.actor
    )
    state = "Enabled" if tenant.people_search_restriction else "Disabled"
    console.print(f"{tenant.name}: PeopleSearchRestriction {state}", markup=False)


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option}: expected an ISO 8601 time, found {text!r}") from None
    return value if value.tzinfo else value.astimezone()


@audit.command("list")
def audit_list(
    since: str | None = typer.Option(None, "--since", help="ISO 8601 time"),
    until: str | None = typer.Option(None, "--until", help="ISO 8601 time"),
    actor: str | None = typer.Option(None, "--actor"),
    kind: list[str] = typer.Option([], "--kind", help="Entry kind (repeatable)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Audit entries in order."""
    entries = STATE.services.audit.entries(
        STATE.tenant,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        actor=actor,
        kinds=kind,
    )
    if as_json:
        print_json([e.as_dict() for e in entries])
        return
    table(
        f"Audit log of {STATE.tenant}",
        ["#", "at (UTC)", "actor", "kind", "detail"],
        [
            (
                e.seq,
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.actor,
                e.kind,
                ", ".join(f"{k}={v}" for k, v in e.detail.items()),
            )
            for e in entries
        ],
    )


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; name the first broken entry."""
    count, broken = STATE.services.audit.verify(STATE.tenant)
    if broken is None:
        console.print(f"audit log intact: {count} entries verified", markup=False)
        return
    seq, why = broken
    output.errors.print(f"audit log BROKEN at entry {seq}: {why}", markup=False)
    raise typer.Exit(1)


def demo() -> None:
    """Load the seed's Company ABC tenant `abc` (created or reset), applied, and show it."""
    from infobarrier.demo import abc

    abc.load(STATE.services, STATE.actor)
    show_demo()


def show_demo() -> None:
    """Print the demo tenant's matrix and the seed's checks with their reasons."""
    from infobarrier.cli.decision_cmds import print_check, print_matrix
    from infobarrier.core.contract import make_check
    from infobarrier.demo import abc

    services = STATE.services
    console.print(
        f"Tenant [bold]{abc.TENANT}[/bold]: Company ABC with vendors V1, V2, V3 "
        "(database " + STATE.db + ")"
    )
    print_matrix(abc.TENANT, "table")
    console.print("\n[bold]A few checks[/bold]")
    for check in abc.CHECKS:
        verdict = services.decisions.check(
            abc.TENANT, make_check(check.action, check.sender, check.to)
        )
        console.print(
            f"- {check.note}: infobarrier --tenant abc check --action {check.action} "
            f"{check.sender} {' '.join(check.to)}",
            markup=False,
        )
        print_check(verdict, indent="    ")


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(tenants, name="tenants")
    app.add_typer(audit, name="audit")
    app.command("demo")(demo)
