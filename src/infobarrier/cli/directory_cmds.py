"""``users``, ``groups``, ``service-accounts``, ``licenses`` and ``powershell`` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from infobarrier.cli.output import console, print_json, table
from infobarrier.cli.state import STATE
from infobarrier.core.errors import InvalidInput

users = typer.Typer(help="Directory users (Entra ID CSV import, list, attribute changes).")
groups = typer.Typer(help="Groups and memberships.")
accounts = typer.Typer(help="Vendor service accounts (semantics §2).")
licenses = typer.Typer(help="License SKUs, seats and assignments.")
powershell = typer.Typer(help="IB cmdlet scripts in and out.")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


@users.command("import")
def users_import(file: Path) -> None:
    """Import an Entra ID "Download users" CSV (all rows or nothing)."""
    summary = STATE.services.directory.import_users_csv(
        STATE.tenant, _read(file), STATE.actor, source=file.name
    )
    console.print(
        f"{summary.rows} rows: {summary.users_created} users created, "
        f"{summary.users_updated} updated, {summary.groups_changed} groups changed",
        markup=False,
    )


@users.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every user with kind, department, company and groups."""
    directory = STATE.services.directory.directory(STATE.tenant)
    rows = [
        (
            u.upn,
            u.display_name,
            u.kind.value,
            "yes" if u.account_enabled else "no",
            u.attributes.get("Department", ""),
            u.company,
            ", ".join(g.display_name for g in directory.groups_of(u.id)),
        )
        for u in directory.users()
    ]
    if as_json:
        keys = ("upn", "display_name", "kind", "enabled", "department", "company", "groups")
        print_json([dict(zip(keys, r, strict=True)) for r in rows])
        return
    table(
        f"Users of {STATE.tenant}",
        ["UPN", "name", "kind", "enabled", "department", "company", "groups"],
        rows,
    )


@users.command("set")
def users_set(
    upn: str,
    assignments: list[str] = typer.Argument(..., help="ATTRIBUTE=VALUE (empty value clears)"),
) -> None:
    """Change a user's attributes (takes effect on decisions at once)."""
    changes: dict[str, object] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"expected ATTRIBUTE=VALUE, found {item!r}")
        key = key.strip()
        if key.casefold() == "accountenabled":
            if value.casefold() not in ("true", "false"):
                raise InvalidInput(f"AccountEnabled: expected True or False, found {value!r}")
            changes["account_enabled"] = value.casefold() == "true"
        else:
            changes[key] = value
    user = STATE.services.directory.update_user(STATE.tenant, upn, STATE.actor, **changes)  # type: ignore[arg-type]
    console.print(f"updated {user.upn}", markup=False)


@groups.command("import")
def groups_import(file: Path) -> None:
    """Import ``groupDisplayName,groupMail,memberUserPrincipalName`` rows."""
    summary = STATE.services.directory.import_groups_csv(
        STATE.tenant, _read(file), STATE.actor, source=file.name
    )
    console.print(f"{summary.rows} rows: {summary.groups_changed} groups changed", markup=False)


@groups.command("list")
def groups_list() -> None:
    """Every group with its member count."""
    directory = STATE.services.directory.directory(STATE.tenant)
    table(
        f"Groups of {STATE.tenant}",
        ["name", "mail", "members"],
        [(g.display_name, g.mail, len(g.members)) for g in directory.groups()],
    )


@accounts.command("create")
def accounts_create(
    upn: str,
    vendor: str = typer.Option(..., "--vendor", help="Vendor company (stored as Company)"),
    sponsor: str = typer.Option(..., "--sponsor", help="UPN of the internal sponsor"),
    display_name: str | None = typer.Option(None, "--display-name"),
) -> None:
    """Create a service account shared by a vendor's staff."""
    user = STATE.services.directory.create_service_account(
        STATE.tenant,
        upn,
        vendor=vendor,
        sponsor=sponsor,
        display_name=display_name,
        actor=STATE.actor,
    )
    console.print(f"created service account {user.upn} for {vendor}", markup=False)


@licenses.command("list")
def licenses_list() -> None:
    """SKUs with seats bought and assigned."""
    book = STATE.services.directory.licenses(STATE.tenant)
    table(
        f"Licenses of {STATE.tenant}",
        ["part number", "product", "seats", "assigned", "service plans"],
        [
            (
                s.part_number,
                s.name,
                s.seats,
                book.assigned(s.part_number),
                ", ".join(s.service_plans),
            )
            for s in book.skus.values()
        ],
    )


@licenses.command("buy")
def licenses_buy(sku: str, seats: int) -> None:
    """Set the seats bought for a SKU."""
    book = STATE.services.directory.purchase(STATE.tenant, sku, seats, STATE.actor)
    found = book.sku(sku)
    console.print(f"{found.part_number}: {found.seats} seats", markup=False)


@licenses.command("assign")
def licenses_assign(upn: str, sku: str) -> None:
    """Assign a SKU to a user."""
    STATE.services.directory.assign(STATE.tenant, upn, sku, STATE.actor)
    console.print(f"assigned {sku} to {upn}", markup=False)


@licenses.command("unassign")
def licenses_unassign(upn: str, sku: str) -> None:
    """Remove a SKU from a user."""
    STATE.services.directory.unassign(STATE.tenant, upn, sku, STATE.actor)
    console.print(f"removed {sku} from {upn}", markup=False)


@powershell.command("import")
def powershell_import(file: Path) -> None:
    """Run a script of IB cmdlets: all of it or nothing; errors name line and column."""
    try:
        text = _read(file).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    result = STATE.services.interchange.import_script(STATE.tenant, text, STATE.actor)
    console.print(
        f"{result.commands} commands ({result.skipped_what_if} -WhatIf), "
        f"{len(result.config.segments)} segments, {len(result.config.policies)} policies, "
        f"{len(result.applications)} application(s)",
        markup=False,
    )
    for app in result.applications:
        console.print(
            f"application {app.seq}: {app.status}, {app.total_recipients} recipients, "
            f"{app.failed_recipients} failed",
            markup=False,
        )


@powershell.command("export")
def powershell_export(
    definitions: bool = typer.Option(
        False, "--definitions", help="Export the definitions as they are, not the epoch in force"
    ),
) -> None:
    """Print a script that rebuilds the barriers (default: the epoch in force)."""
    typer.echo(
        STATE.services.interchange.export_script(STATE.tenant, definitions=definitions), nl=False
    )


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(users, name="users")
    app.add_typer(groups, name="groups")
    app.add_typer(accounts, name="service-accounts")
    app.add_typer(licenses, name="licenses")
    app.add_typer(powershell, name="powershell")
