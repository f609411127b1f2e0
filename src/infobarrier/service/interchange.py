"""PowerShell cmdlet scripts in and out (docs/interfaces.md, "PowerShell scripts").

An import is one transaction: if any line fails, nothing of the script stays, including
applications started earlier in the same script.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infobarrier.core.barriers import BarrierConfig
from infobarrier.formats.powershell.export import render_script
from infobarrier.formats.powershell.script import iter_script, parse_script
from infobarrier.service.application import ApplicationHandler
from infobarrier.service.context import Context
from infobarrier.store.records import Application


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """What an imported script did."""

    commands: int
    skipped_what_if: int
    applications: list[Application]
    config: BarrierConfig


class InterchangeHandler:
    """Import and export the IB cmdlets."""

    def __init__(self, ctx: Context, applications: ApplicationHandler) -> None:
        self.ctx = ctx
        self.applications = applications

    def import_script(self, tenant: str, text: str, actor: str) -> ScriptResult:
        """Run a script of IB cmdlets: all of it, or nothing (errors name line and column)."""
        commands = parse_script(text)
        applied: list[Application] = []
        with self.ctx.tenant_tx(tenant, actor) as tx:
            config = tx.repos.barriers.load()
            for command, after in iter_script(config, commands):
                config = after
                if command.applies and not command.what_if:
                    # The script may have changed the mode: apply with the tenant as saved.
                    tx = replace(tx, tenant=tx.repos.barriers.save(config))
                    applied.append(self.applications.apply_in(tx))
            tx = replace(tx, tenant=tx.repos.barriers.save(config))
            tx.audit(
                "powershell.imported",
                commands=len(commands),
                applications=[a.id for a in applied],
            )
        return ScriptResult(len(commands), sum(c.what_if for c in commands), applied, config)

    def export_script(self, tenant: str, *, definitions: bool = False) -> str:
        """The epoch in force as a script (default), or the definitions as they are."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            if definitions:
                config = tx.repos.barriers.load()
                what = "segment and policy definitions as they are (not necessarily applied)"
            else:
                stored = tx.repos.applications.current_epoch()
                base = tx.repos.barriers.load()
                config = (
                    stored[1]
                    if stored
                    else BarrierConfig(
                        mode=base.mode, people_search_restriction=base.people_search_restriction
                    )
                )
                what = (
                    f"the epoch in force (epoch {stored[0]}): its segments and Active policies"
                    if stored
                    else "no epoch applied yet: nothing is in force"
                )
        header = (
            f"infobarrier export of tenant {tenant!r}: {what}.\n"
            "Import with `infobarrier powershell import FILE`, or run in Security & "
            "Compliance PowerShell."
        )
        return render_script(config, header=header)
