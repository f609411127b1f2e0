"""``segments``, ``policies``, ``apply`` and ``status`` commands."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from infobarrier.cli.output import console, errors, print_json, safe_cell, table
from infobarrier.cli.state import STATE
from infobarrier.core.barriers import parse_state
from infobarrier.core.codes import ApplicationState
from infobarrier.core.errors import InvalidInput

if TYPE_CHECKING:  # the heavy modules are imported by the commands that use them
    from infobarrier.core.barriers import Policy
    from infobarrier.core.epoch import Epoch
    from infobarrier.service.barriers import PolicyResult
    from infobarrier.store.records import Application

segments = typer.Typer(help="Segments: named attribute filters (semantics §3).")
policies = typer.Typer(help="Policies: who a segment may reach (semantics §4).")


@segments.command("list")
def segments_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every segment with its filter, users matched now, and policy."""
    infos = STATE.services.barriers.segments(STATE.tenant)
    if as_json:
        print_json(
            [
                {
                    "name": i.segment.name,
                    "filter": i.segment.filter,
                    "users": i.matches,
                    "policy": i.policy,
                }
                for i in infos
            ]
        )
        return
    table(
        f"Segments of {STATE.tenant} (as defined)",
        ["name", "filter", "users now", "policy"],
        [(i.segment.name, i.segment.filter, i.matches, i.policy or "") for i in infos],
    )


@segments.command("show")
def segments_show(name: str) -> None:
    """One segment."""
    info = STATE.services.barriers.segment(STATE.tenant, name)
    console.print(f"name:    {info.segment.name}", markup=False)
    console.print(f"id:      {info.segment.id}", markup=False)
    console.print(f"filter:  {info.segment.filter}", markup=False)
    console.print(f"users:   {info.matches} match now", markup=False)
    console.print(f"policy:  {info.policy or '(none)'}", markup=False)


@segments.command("new")
def segments_new(name: str, filter_text: str = typer.Option(..., "--filter")) -> None:
    """New-OrganizationSegment."""
    segment = STATE.services.barriers.new_segment(STATE.tenant, name, filter_text, STATE.actor)
    console.print(f"created segment {segment.name}: {segment.filter}", markup=False)


@segments.command("set")
def segments_set(name: str, filter_text: str = typer.Option(..., "--filter")) -> None:
    """Set-OrganizationSegment -UserGroupFilter (only the filter can change)."""
    segment = STATE.services.barriers.set_segment(STATE.tenant, name, filter_text, STATE.actor)
    console.print(f"updated segment {segment.name}: {segment.filter}", markup=False)


@segments.command("remove")
def segments_remove(name: str) -> None:
    """Remove-OrganizationSegment (refused while a policy references it)."""
    STATE.services.barriers.remove_segment(STATE.tenant, name, STATE.actor)
    console.print(f"removed segment {name}", markup=False)


def _policy_row(p: Policy) -> tuple[str, ...]:
    return (
        p.name,
        p.segment,
        "allowed" if p.kind.value == "allow" else "blocked",
        ", ".join(p.segments),
        p.state.value,
        p.comment,
    )


def _policy_json(p: Policy) -> dict[str, Any]:
    return {
        "name": p.name,
        "segment": p.segment,
        "kind": p.kind.value,
        "segments": list(p.segments),
        "state": p.state.value,
        "moderation_allowed": p.moderation_allowed,
        "comment": p.comment,
    }


@policies.command("list")
def policies_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every policy as defined (Active and Inactive)."""
    rows = STATE.services.barriers.policies(STATE.tenant)
    if as_json:
        print_json([_policy_json(p) for p in rows])
        return
    table(
        f"Policies of {STATE.tenant} (as defined)",
        ["name", "segment", "list", "segments", "state", "comment"],
        [_policy_row(p) for p in rows],
    )


@policies.command("show")
def policies_show(name: str) -> None:
    """One policy."""
    p = STATE.services.barriers.policy(STATE.tenant, name)
    for key, value in _policy_json(p).items():
        shown = ", ".join(value) if isinstance(value, list) else value
        console.print(f"{key + ':':20} {shown}", markup=False)


def _lists(
    allowed: list[str] | None, blocked: list[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    return (allowed or None), (blocked or None)


def _report(verb: str, result: PolicyResult) -> None:
    p = result.policy
    console.print(
        f"{verb} policy {p.name}: segment {p.segment} "
        f"{'allowed' if p.kind.value == 'allow' else 'blocked'} {', '.join(p.segments)} "
        f"({p.state.value})",
        markup=False,
    )
    for warning in result.warnings:
        errors.print(f"warning: {warning}", markup=False)


@policies.command("new")
def policies_new(
    name: str,
    segment: str = typer.Option(..., "--segment", help="AssignedSegment"),
    allowed: list[str] = typer.Option([], "--allowed", help="SegmentsAllowed A [B ...]"),
    blocked: list[str] = typer.Option([], "--blocked", help="SegmentsBlocked A [B ...]"),
    state: str = typer.Option("Inactive", "--state", help="Active|Inactive"),
    comment: str = typer.Option("", "--comment"),
    moderation_allowed: bool = typer.Option(False, "--moderation-allowed"),
) -> None:
    """New-InformationBarrierPolicy: exactly one of --allowed and --blocked."""
    allow, block = _lists(allowed, blocked)
    if allow is None and block is None:
        raise InvalidInput("give --allowed A [B ...] or --blocked A [B ...] [rule policy.one_list]")
    result = STATE.services.barriers.new_policy(
        STATE.tenant,
        name,
        segment,
        STATE.actor,
        allowed=allow,
        blocked=block,
        state=parse_state(state),
        moderation_allowed=moderation_allowed,
        comment=comment,
    )
    _report("created", result)


@policies.command("set")
def policies_set(
    name: str,
    allowed: list[str] = typer.Option([], "--allowed"),
    blocked: list[str] = typer.Option([], "--blocked"),
    state: str | None = typer.Option(None, "--state"),
    comment: str | None = typer.Option(None, "--comment"),
) -> None:
    """Set-InformationBarrierPolicy: list (the other kind replaces it), state, comment."""
    allow, block = _lists(allowed, blocked)
    result = STATE.services.barriers.set_policy(
        STATE.tenant,
        name,
        STATE.actor,
        allowed=allow,
        blocked=block,
        state=parse_state(state) if state is not None else None,
        comment=comment,
    )
    _report("updated", result)


@policies.command("remove")
def policies_remove(name: str) -> None:
    """Remove-InformationBarrierPolicy."""
    STATE.services.barriers.remove_policy(STATE.tenant, name, STATE.actor)
    console.print(f"removed policy {name}", markup=False)


def application_json(app: Application) -> dict[str, Any]:
    """JSON form of an application's status."""
    return {
        "id": app.id,
        "number": app.seq,
        "status": app.status,
        "actor": app.actor,
        "started": app.started_at.isoformat(),
        "ended": app.ended_at.isoformat() if app.ended_at else None,
        "total_recipients": app.total_recipients,
        "failed_recipients": app.failed_recipients,
        "percent": app.percent,
        "error": app.error or None,
        "report": app.report,
    }


#: How many conflicts, findings and segments a summary names before it only counts.
SHOWN = 5


def print_application(app: Application, *, details: bool = True) -> None:
    """A readable status block: counts and the first few of each list, whatever the
    tenant's size (every per-user line goes to ``apply --changes FILE``)."""
    ended = f"{app.ended_at:%Y-%m-%d %H:%M:%S}" if app.ended_at else "-"
    console.print(
        f"application {app.seq} [{app.status}] started {app.started_at:%Y-%m-%d %H:%M:%S} "
        f"ended {ended} UTC by {app.actor}: {app.total_recipients:,} recipients, "
        f"{app.failed_recipients:,} failed, {app.percent}%",
        markup=False,
    )
    if app.error:
        console.print(f"  error: {app.error}", markup=False)
    if not details:
        return
    report = app.report
    per_segment: dict[str, int] = report.get("segment_users", {})
    if per_segment:
        largest = sorted(per_segment.items(), key=lambda kv: (-kv[1], kv[0]))
        empty = sum(1 for n in per_segment.values() if n == 0)
        console.print(
            f"  segments: {len(per_segment):,} ({empty:,} empty); largest: "
            + ", ".join(f"{name} {count:,} users" for name, count in largest[:SHOWN]),
            markup=False,
        )
    changes = report.get("changes", {})
    if changes:
        totals = changes.get("totals", {})

        def count(name: str) -> int:
            return int(totals.get(name, len(changes.get(name, []))))

        console.print(
            f"  changes: {count('users_changed'):,} users changed segments, "
            f"{count('pairs_blocked'):,} segment pairs newly blocked, "
            f"{count('pairs_allowed'):,} newly allowed, "
            f"{count('new_conflicts'):,} new conflicts, "
            f"{count('resolved_conflicts'):,} resolved",
            markup=False,
        )
    conflicts = report.get("conflicts", [])
    for conflict in conflicts[:SHOWN]:
        console.print(
            f"  IBPolicyConflict: {conflict['upn']} matches {', '.join(conflict['segments'])}",
            markup=False,
        )
    if len(conflicts) > SHOWN:
        console.print(f"  ... {len(conflicts):,} users in IBPolicyConflict in all", markup=False)
    found = report.get("findings", [])
    total = int(report.get("findings_total", len(found)))
    for finding in found[:SHOWN]:
        console.print(f"  licensing: {finding}", markup=False)
    if total > SHOWN:
        console.print(f"  ... {total:,} licensing findings in all", markup=False)


def _changes_format(path: Path, fmt: str | None) -> str:
    """``csv`` or ``jsonl``: as given, else by the file's extension."""
    chosen = (fmt or path.suffix.lstrip(".")).casefold()
    if chosen == "csv":
        return "csv"
    if chosen in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise InvalidInput(
        f"cannot tell the format of {path.name}: name it .csv or .jsonl, or give --format"
    )


def write_changes(path: Path, fmt: str, before: Epoch, after: Epoch) -> int:
    """Every user whose segments changed, one row each; returns how many rows."""
    from infobarrier.core.whatif import user_changes

    rows = 0
    try:
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            if fmt == "csv":
                writer.writerow(["upn", "before", "after", "conflict"])
            for change in user_changes(before, after):
                index = after.index_of(change.upn)
                conflict = index is not None and after.in_conflict(index)
                if fmt == "csv":
                    writer.writerow(
                        [
                            safe_cell(change.upn),
                            safe_cell(";".join(change.before)),
                            safe_cell(";".join(change.after)),
                            "true" if conflict else "false",
                        ]
                    )
                else:
                    line = {
                        "upn": change.upn,
                        "before": list(change.before),
                        "after": list(change.after),
                        "conflict": conflict,
                    }
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                rows += 1
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    return rows


def apply(
    what_if: bool = typer.Option(False, "--what-if", help="Show what would change; change nothing"),
    as_json: bool = typer.Option(False, "--json"),
    changes: Path | None = typer.Option(
        None,
        "--changes",
        help="Write every user whose segments changed to this file (CSV or JSON lines)",
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="Format of the --changes file: csv|jsonl (default: by extension)"
    ),
) -> None:
    """Start-InformationBarrierPoliciesApplication: build and store a new epoch atomically.

    Prints a summary (segments and their users, changes by kind, conflicts, licensing);
    per-user changes are written only to ``--changes FILE``."""
    services = STATE.services
    if fmt is not None and changes is None:
        raise InvalidInput("--format is the format of the --changes file: give --changes FILE")
    chosen = _changes_format(changes, fmt) if changes is not None else ""
    if what_if:
        if changes is not None:
            raise InvalidInput("--changes is written by an apply, not by --what-if")
        preview = services.applications.what_if(STATE.tenant)
        if as_json:
            print_json(
                {
                    **preview.whatif.as_dict(),
                    "conflicts": preview.conflicts,
                    "findings": preview.findings,
                    "total_recipients": preview.total_recipients,
                }
            )
            return
        _print_preview(preview)
        return
    written: list[int] = []

    def keep(before: Epoch, after: Epoch) -> None:
        if changes is not None:
            written.append(write_changes(changes, chosen, before, after))

    if sys.stdout.isatty() and not as_json:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("applying", total=100)

            def progress(stage: str, percent: int) -> None:
                bar.update(task, completed=percent, description=f"applying: {stage}")

            app = services.applications.apply(STATE.tenant, STATE.actor, progress, keep)
    else:
        app = services.applications.apply(STATE.tenant, STATE.actor, epochs=keep)
    if as_json:
        print_json(application_json(app))
        return
    print_application(app)
    if written:
        console.print(f"  per-user changes: {written[0]:,} rows in {changes}", markup=False)
    elif app.status is ApplicationState.COMPLETED:
        console.print("  per-user changes: not written (apply --changes FILE)", markup=False)


#: Entries of each list a text what-if names before it only counts (``--json`` has up to
#: ``core.whatif.LIST_LIMIT`` of each and every licensing finding).
PREVIEW_SHOWN = 20


def _print_preview(preview: Any) -> None:
    """The what-if as a summary a person can read at any size: the first
    ``PREVIEW_SHOWN`` entries of each list and the first ``SHOWN`` licensing findings,
    then their totals (at 100,000 users the findings alone were 90,000 lines)."""
    w = preview.whatif
    console.print(
        f"what-if ({preview.total_recipients:,} recipients): nothing has changed", markup=False
    )
    if w.is_empty and not preview.conflicts:
        console.print("  applying now would change nothing", markup=False)
    for change in w.users_changed[:PREVIEW_SHOWN]:
        before = ", ".join(change.before) or "(none)"
        after = ", ".join(change.after) or "(none)"
        console.print(f"  user {change.upn}: {before} -> {after}", markup=False)
    for pair in w.pairs_blocked[:PREVIEW_SHOWN]:
        console.print(f"  newly BLOCKED: {pair.a} <-> {pair.b}: {pair.reason}", markup=False)
    for pair in w.pairs_allowed[:PREVIEW_SHOWN]:
        console.print(f"  newly allowed: {pair.a} <-> {pair.b}: {pair.reason}", markup=False)
    for upn, segs in w.new_conflicts[:PREVIEW_SHOWN]:
        console.print(f"  new IBPolicyConflict: {upn} in {', '.join(segs)}", markup=False)
    for upn in w.resolved_conflicts[:PREVIEW_SHOWN]:
        console.print(f"  conflict resolved: {upn}", markup=False)
    t = w.totals
    for name, listed, total in (
        ("users changed segments", len(w.users_changed), t.users_changed),
        ("segment pairs newly blocked", len(w.pairs_blocked), t.pairs_blocked),
        ("segment pairs newly allowed", len(w.pairs_allowed), t.pairs_allowed),
        ("new conflicts", len(w.new_conflicts), t.new_conflicts),
        ("conflicts resolved", len(w.resolved_conflicts), t.resolved_conflicts),
    ):
        if total > min(listed, PREVIEW_SHOWN):
            console.print(f"  ... {total:,} {name} in all", markup=False)
    for finding in preview.findings[:SHOWN]:
        console.print(f"  licensing: {finding}", markup=False)
    if len(preview.findings) > SHOWN:
        console.print(f"  ... {len(preview.findings):,} licensing findings in all", markup=False)
    if t.users_changed > PREVIEW_SHOWN or len(preview.findings) > SHOWN:
        console.print("  every entry: apply --what-if --json", markup=False)


def status(
    show_all: bool = typer.Option(False, "--all", help="The whole history"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Status of the last application (or all of them)."""
    history = STATE.services.applications.history(STATE.tenant)
    shown = history if show_all else history[:1]
    if as_json:
        print_json([application_json(a) for a in shown])
        return
    if not shown:
        console.print(
            f"{ApplicationState.NOT_STARTED}: no application yet (nobody is segmented)",
            markup=False,
        )
        return
    for app in shown:
        print_application(app, details=not show_all)


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(segments, name="segments")
    app.add_typer(policies, name="policies")
    app.command("apply")(apply)
    app.command("status")(status)
