"""``exceptions`` commands: wall-crossing exceptions (semantics §11).

Four eyes need names: every command that changes an exception takes ``--actor NAME``,
the person acting, which the audit log records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from infobarrier.cli.output import console, print_json, table
from infobarrier.cli.state import STATE
from infobarrier.core.errors import InvalidInput

if TYPE_CHECKING:  # imported by the commands that use them (start-up stays light)
    from infobarrier.core.exceptions import WallException

exceptions = typer.Typer(
    help="Wall-crossing exceptions: time-boxed, approved openings in the barrier."
)

ACTOR_HELP = "The person acting (four eyes: the approver is never the requester)"


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _remaining(seconds: int) -> str:
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def describe(exc: WallException, now: datetime) -> dict[str, Any]:
    """``service.exceptions.describe``, imported by the commands that print one."""
    from infobarrier.service.exceptions import describe as describe_exception

    return describe_exception(exc, now)


def _print(exc: WallException) -> None:
    data = describe(exc, STATE.services.exceptions.now())
    console.print(f"exception {exc.id}: {exc.state.value}", markup=False)
    lines = [
        ("scope", exc.scope()),
        ("actions", ", ".join(a.value for a in exc.actions)),
        ("window", f"{data['start']} to {data['end']}"),
        ("remaining", _remaining(int(data["remaining_seconds"])) or "-"),
        ("active", "yes" if data["active"] else "no"),
        ("justification", exc.justification),
        ("requested by", f"{exc.requester} at {data['requested_at']}"),
    ]
    if exc.approver:
        lines.append(("approved by", f"{exc.approver} at {data['approved_at']}"))
    if exc.closed_by:
        lines.append((exc.state.value + " by", f"{exc.closed_by} at {data['closed_at']}"))
    if exc.note:
        lines.append(("note", exc.note))
    for key, value in lines:
        console.print(f"  {key}: {value}", markup=False)


@exceptions.command("request")
def request(
    users: str | None = typer.Option(None, "--users", help="Two UPNs: A,B"),
    segments: str | None = typer.Option(None, "--segments", help="Two segments: S1,S2"),
    actions: str = typer.Option(..., "--actions", help="chat,call,... (the actions of §7)"),
    start: str | None = typer.Option(None, "--start", help="ISO 8601; default now"),
    end: str = typer.Option(..., "--end", help="ISO 8601, e.g. 2026-12-15T18:00:00Z"),
    why: str = typer.Option(..., "--why", help="The justification"),
    actor: str = typer.Option(..., "--actor", help="The person requesting"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Request an exception; prints its id on its own line (last)."""
    from infobarrier.core.exceptions import parse_time

    if (users is None) == (segments is None):
        raise InvalidInput("give either --users A,B or --segments S1,S2")
    exc = STATE.services.exceptions.request(
        STATE.tenant,
        users=_split(users),
        segments=_split(segments),
        actions=_split(actions) or [],
        start=parse_time(start, "--start") if start is not None else None,
        end=parse_time(end, "--end"),
        why=why,
        actor=actor,
    )
    if as_json:
        print_json(describe(exc, STATE.services.exceptions.now()))
        return
    console.print(
        f"requested: {exc.scope()} may {', '.join(a.value for a in exc.actions)} until "
        f"{exc.end.isoformat()}; awaiting approval by someone other than {exc.requester}",
        markup=False,
    )
    typer.echo(exc.id)


@exceptions.command("approve")
def approve_cmd(
    exception_id: str = typer.Argument(..., metavar="ID"),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
) -> None:
    """Approve a request (not your own): active from its start until its end."""
    exc = STATE.services.exceptions.approve(STATE.tenant, exception_id, actor)
    _print(exc)


@exceptions.command("reject")
def reject_cmd(
    exception_id: str = typer.Argument(..., metavar="ID"),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
    why: str = typer.Option("", "--why", help="Why it is rejected"),
) -> None:
    """Reject a request."""
    _print(STATE.services.exceptions.reject(STATE.tenant, exception_id, actor, why))


@exceptions.command("revoke")
def revoke_cmd(
    exception_id: str = typer.Argument(..., metavar="ID"),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
    why: str = typer.Option("", "--why", help="Why it is revoked"),
) -> None:
    """Revoke an approved exception: closed at once, conversations reconciled."""
    exc, actions = STATE.services.exceptions.revoke(STATE.tenant, exception_id, actor, why)
    _print(exc)
    for action in actions:
        console.print(f"  reconciled: {action['reason']}", markup=False)


@exceptions.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state", help="requested|approved|...|expired"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The tenant's exceptions, oldest request first."""
    from infobarrier.core.exceptions import State

    states = None
    if state is not None:
        try:
            states = [State(s.strip().lower()) for s in state.split(",") if s.strip()]
        except ValueError:
            valid = ", ".join(s.value for s in State)
            raise InvalidInput(f"unknown state {state!r}: expected one of {valid}") from None
    found = STATE.services.exceptions.list(STATE.tenant, states)
    now = STATE.services.exceptions.now()
    if as_json:
        print_json([describe(e, now) for e in found])
        return
    rows: list[tuple[Any, ...]] = []
    for e in found:
        data = describe(e, now)
        rows.append(
            (
                e.id,
                e.state.value + (" (active)" if data["active"] else ""),
                e.scope(),
                ",".join(a.value for a in e.actions),
                data["end"],
                _remaining(int(data["remaining_seconds"])),
                e.requester,
                e.approver or "",
            )
        )
    table(
        f"Exceptions of {STATE.tenant}",
        ["id", "state", "scope", "actions", "end", "remaining", "requested by", "approved by"],
        rows,
    )


@exceptions.command("show")
def show(
    exception_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One exception."""
    exc = STATE.services.exceptions.get(STATE.tenant, exception_id)
    if as_json:
        print_json(describe(exc, STATE.services.exceptions.now()))
        return
    _print(exc)


@exceptions.command("what-if")
def what_if(
    exception_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What approving a request would change (or revoking an approved one)."""
    report = STATE.services.exceptions.what_if(STATE.tenant, exception_id)
    if as_json:
        print_json(report)
        return
    if report["effect"] == "approve":
        console.print(
            f"approving {exception_id} flips {report['pairs_total']} pair(s) from blocked to "
            f"allowed; {report['conversations_total']} existing conversation(s) hold such a pair",
            markup=False,
        )
        for item in report["pairs"][:20]:
            console.print(
                f"  {item['pair'][0]} <-> {item['pair'][1]}: {', '.join(item['actions'])}",
                markup=False,
            )
        return
    console.print(
        f"revoking {exception_id} would take {report['reconciliation_total']} reconciliation "
        "action(s)",
        markup=False,
    )
    for action in report["reconciliation"][:20]:
        console.print(f"  {action['reason']}", markup=False)


@exceptions.command("max-window")
def max_window(
    days: float | None = typer.Argument(None, help="Set it to this many days"),
) -> None:
    """Show (or set) the longest window this tenant allows (default 30 days)."""
    service = STATE.services.exceptions
    if days is not None:
        service.set_max_window(STATE.tenant, timedelta(days=days), STATE.actor)
    window = service.max_window(STATE.tenant)
    console.print(f"maximum window: {window.total_seconds() / 86400:g} days", markup=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(exceptions, name="exceptions")
