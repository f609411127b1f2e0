"""``check``, ``recipient`` and ``matrix`` commands."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from infobarrier.cli.output import Exit, console, print_json, safe_cell
from infobarrier.cli.state import STATE
from infobarrier.core.contract import Check, CheckError, Verdict, make_check, read_lines
from infobarrier.core.errors import InvalidInput

if TYPE_CHECKING:
    from infobarrier.service.decisions import RecipientStatus


def print_check(verdict: Verdict, indent: str = "") -> None:
    """``ALLOWED: reason`` or ``BLOCKED: reason``."""
    word = "[green]ALLOWED[/green]" if verdict.allowed else "[red]BLOCKED[/red]"
    console.print(f"{indent}{word}: ", end="")
    if not verdict.allowed and verdict.pair is not None:
        console.print(f"{verdict.pair[0]} and {verdict.pair[1]}: ", end="", markup=False)
    console.print(verdict.reason, markup=False)


def check(
    upns: list[str] = typer.Argument(None, help="FROM TO [TO ...]"),
    action: str | None = typer.Option(None, "--action", help="search, chat, group-chat, ..."),
    as_json: bool = typer.Option(False, "--json"),
    batch: Path | None = typer.Option(
        None, "--batch", help="JSON lines or a JSON array of checks; '-' for stdin"
    ),
) -> int:
    """May FROM do ACTION with TO? Exit 0 allowed, 1 blocked, 2 bad input."""
    services = STATE.services
    if batch is not None:
        if upns or action:
            raise InvalidInput("--batch takes no --action and no users")
        text = sys.stdin.read() if str(batch) == "-" else _read_text(batch)
        _print_batch(read_lines(text))
        return Exit.OK
    if action is None:
        raise InvalidInput("give --action ACTION FROM TO [TO ...], or --batch FILE")
    if not upns or len(upns) < 2:
        raise InvalidInput("give FROM and at least one TO user")
    # One question: read only the people it names (the verdict is the epoch in force's).
    verdict = services.decisions.check_alone(STATE.tenant, make_check(action, upns[0], upns[1:]))
    if as_json:
        print_json(verdict.as_dict())
    else:
        print_check(verdict)
    return Exit.OK if verdict.allowed else Exit.BLOCKED


def _print_batch(read: list[Check | CheckError]) -> None:
    """One JSON line per check, in order: the answers of ``POST /decisions`` (the same
    encoder, ``core.answers.answer_parts``, with its per-profile-pair fragment cache), and
    each unreadable line's error in its place."""
    from infobarrier.core.answers import answer_parts

    epoch, restricted, openings = STATE.services.decisions.in_force_open(STATE.tenant)
    checks = [c for c in read if not isinstance(c, CheckError)]
    answers = iter(
        answer_parts(epoch, checks, people_search_restriction=restricted, openings=openings)
    )
    lines = [
        json.dumps(c.as_dict(), ensure_ascii=False) if isinstance(c, CheckError) else next(answers)
        for c in read
    ]
    sys.stdout.write("".join(line + "\n" for line in lines))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _print_status(status: RecipientStatus) -> None:
    console.print(f"{status.upn} ({status.display_name}, {status.kind})", markup=False)
    console.print(f"  account:  {'enabled' if status.account_enabled else 'DISABLED'}")
    console.print(f"  segments: {', '.join(status.segments) or '(none)'}", markup=False)
    console.print(f"  policies: {', '.join(status.policies) or '(none)'}", markup=False)
    for error in status.errors:
        console.print(f"  error:    {error}", markup=False)
    for finding in status.findings:
        console.print(f"  licensing: {finding}", markup=False)


def recipient(
    upn: str,
    other: str | None = typer.Argument(None, help="A second user: show the pair's verdict"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A user's segments, policies and errors; with two users, their relationship."""
    status = STATE.services.decisions.recipient(STATE.tenant, upn, other)
    if as_json:
        print_json(status.as_dict())
        return
    console.print(f"epoch {status.epoch_id or '(none applied)'}", markup=False)
    _print_status(status)
    if status.other is not None:
        _print_status(status.other)
    if status.pair is not None:
        console.print("relationship: ", end="")
        print_check(status.pair)


def print_matrix(tenant: str, fmt: str) -> None:
    """The segment matrix in one of the formats (only JSON explains each cell)."""
    if fmt == "json":
        names, grid, counts = STATE.services.decisions.matrix(tenant)
        cells: list[dict[str, Any]] = [
            {
                "a": c.a,
                "b": c.b,
                "allowed": c.allowed,
                "code": c.code,
                "reason": c.reason,
                "policy": c.policy,
            }
            for row in grid
            for c in row
        ]
        print_json({"segments": names, "users": counts, "cells": cells})
        return
    names, rows, counts = STATE.services.decisions.matrix_verdicts(tenant)
    if fmt == "csv":
        # Only the names can need quoting or a formula guard; each row's verdicts are
        # written in one go from its "1"/"0" string (251,001 cells at 500 segments).
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([safe_cell(h) for h in ("segment", "users", *names)])
        for name, count, row in zip(names, counts, rows, strict=True):
            writer.writerow([safe_cell(name), count])
            buffer.seek(buffer.tell() - 1)  # the row goes on after its first two cells
            buffer.write(("," + ",".join(row)).replace("1", "allowed").replace("0", "blocked"))
            buffer.write("\n")
        sys.stdout.write(buffer.getvalue())
        return
    from rich.table import Table

    t = Table(title=f"Who can communicate with whom in {tenant} (epoch in force)")
    t.add_column("segment (users)")
    for k in range(len(names)):
        t.add_column(str(k + 1), justify="center")
    for k, (name, count, row) in enumerate(zip(names, counts, rows, strict=True)):
        t.add_row(
            f"{k + 1}. {name} ({count})",
            *("[green]✓[/green]" if c == "1" else "[red]✗[/red]" for c in row),
        )
    console.print(t)
    console.print("✓ allowed  ✗ blocked; `recipient A B` explains any pair.")


def matrix(
    fmt: str = typer.Option("table", "--format", help="table|csv|json"),
) -> None:
    """Segment x segment verdicts, including users in no segment."""
    if fmt not in ("table", "csv", "json"):
        raise InvalidInput(f"--format: expected table, csv or json, found {fmt!r}")
    print_matrix(STATE.tenant, fmt)


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.command("check")(check)
    app.command("recipient")(recipient)
    app.command("matrix")(matrix)
