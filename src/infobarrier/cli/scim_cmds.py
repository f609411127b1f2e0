"""``scim`` commands: the tenant's provisioning settings (docs/scim.md)."""

from __future__ import annotations

import typer

from infobarrier.cli.output import console
from infobarrier.cli.state import STATE
from infobarrier.scim.upn import DEFAULT_TEMPLATE, check_template

scim = typer.Typer(help="SCIM provisioning settings of the tenant (docs/scim.md).")


@scim.command("upn-template")
def upn_template(
    template: str | None = typer.Argument(
        None, help="e.g. '{userName}@contoso.com'; omit it to print the template in force."
    ),
    reset: bool = typer.Option(False, "--reset", help=f"Back to the default, {DEFAULT_TEMPLATE}."),
) -> None:
    """The template that makes a UPN from a userName that is not an address.

    Used only when the user has no work e-mail either; placeholders {userName} and {tenant}.
    """
    provisioning = STATE.services.provisioning
    if template is None and not reset:
        with provisioning.session(STATE.tenant, STATE.actor, write=False) as session:
            current = session.upn_template()
        shown = current if current is not None else f"{DEFAULT_TEMPLATE} (default)"
        console.print(shown, markup=False)
        return
    checked = None if reset else check_template(template or "")
    with provisioning.session(STATE.tenant, STATE.actor) as session:
        session.set_upn_template(checked)
    console.print(f"UPN template: {checked or DEFAULT_TEMPLATE}", markup=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(scim, name="scim")
