"""Entry point: global ``--db``/``--tenant`` options, sub-commands, exit codes.

Exit codes (docs/interfaces.md): 0 success or allowed, 1 a single check said no, 2 bad input or
not found. Errors go to stderr as ``error: <message>``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from infobarrier import __version__
from infobarrier.cli import (
    barrier_cmds,
    decision_cmds,
    directory_cmds,
    exception_cmds,
    scim_cmds,
    server_cmds,
    tenant_cmds,
)
from infobarrier.cli.output import Exit, errors, exit_code_for
from infobarrier.cli.state import STATE
from infobarrier.core.errors import InfobarrierError

app = typer.Typer(
    name="infobarrier",
    help="Information barriers: segments, policies, explained decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"infobarrier {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL (SQLite or PostgreSQL); default INFOBARRIER_DB, else "
        "sqlite:///infobarrier.db (docs/settings.md).",
        show_default=False,
    ),
    tenant: str | None = typer.Option(
        None, "--tenant", envvar="INFOBARRIER_TENANT", help="Tenant the command works on."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Global options come before the command: ``infobarrier --tenant abc matrix``."""
    STATE.reset(db, tenant)


tenant_cmds.register(app)
directory_cmds.register(app)
barrier_cmds.register(app)
decision_cmds.register(app)
server_cmds.register(app)
scim_cmds.register(app)
exception_cmds.register(app)

#: Options that take several values after one flag (``--allowed A B C``).
LIST_OPTIONS = ("--allowed", "--blocked")


def expand_list_options(argv: Sequence[str]) -> list[str]:
    """Rewrite ``--allowed A B`` as ``--allowed A --allowed B`` (Click takes one value)."""
    out: list[str] = []
    current: str | None = None
    took_value = False
    for arg in argv:
        if current is not None and arg not in LIST_OPTIONS and not arg.startswith("--"):
            out += [current, arg]
            took_value = True
            continue
        if current is not None and not took_value:
            out.append(current)  # a flag with no value: let Click report it
        current, took_value = (arg, False) if arg in LIST_OPTIONS else (None, False)
        if current is None:
            out.append(arg)
    if current is not None and not took_value:
        out.append(current)
    return out


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this)."""
    args = expand_list_options(list(sys.argv[1:] if argv is None else argv))
    try:
        result = app(args=args, prog_name="infobarrier", standalone_mode=False)
    except InfobarrierError as exc:
        errors.print(f"error: {exc}", markup=False)
        return exit_code_for(exc.code)
    except Exception as exc:
        # Typer vendors its own Click, so match its exceptions by shape, not by class.
        kind = type(exc).__name__
        if kind == "Exit":
            return int(getattr(exc, "exit_code", 0))
        if kind == "Abort":
            errors.print("aborted")
            return Exit.ABORTED
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()  # usage errors: "Usage: ... Error: ..."
            return Exit.ERROR
        raise
    finally:
        if STATE._services is not None:
            STATE._services.store.dispose()
            STATE._services = None
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console script ``infobarrier``."""
    sys.exit(run())


if __name__ == "__main__":
    main()
