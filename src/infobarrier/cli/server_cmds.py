"""``serve`` and ``tokens`` commands."""

from __future__ import annotations

import os

import typer

from infobarrier.cli.output import console, print_json, table
from infobarrier.cli.state import STATE
from infobarrier.service.tokens import Role, parse_role

tokens = typer.Typer(help="Bearer tokens for the HTTP API: one tenant, one role each.")


@tokens.command("create")
def tokens_create(
    tenant: str = typer.Option(..., "--tenant", help="The tenant the token is bound to"),
    role: str = typer.Option(..., "--role", help="admin|auditor|enforcer|provisioner|compliance"),
    label: str = typer.Option("", "--label", help="What the token is for"),
    person: str | None = typer.Option(
        None, "--for", help="The person it is issued to (named in the audit log; four eyes)"
    ),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    record, plain = STATE.services.tokens.create(
        tenant, parse_role(role), STATE.actor, label, person=person
    )
    holder = f", for {record.person}" if record.person else ""
    console.print(f"token {record.id} ({record.role}{holder}) for tenant {tenant}:", markup=False)
    typer.echo(plain)


@tokens.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Tokens (of --tenant if given, else all), never their secrets."""
    found = STATE.services.tokens.list(STATE.tenant_name)
    if as_json:
        print_json(
            [
                {
                    "id": t.id,
                    "tenant": t.tenant,
                    "role": t.role,
                    "label": t.label,
                    "person": t.person,
                    "created": t.created_at.isoformat(),
                    "revoked": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in found
            ]
        )
        return
    table(
        "Tokens",
        ["id", "tenant", "role", "label", "for", "created", "revoked"],
        [
            (
                t.id,
                t.tenant,
                t.role,
                t.label,
                t.person or "",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
            )
            for t in found
        ],
    )


@tokens.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token: it stops working at once."""
    token = STATE.services.tokens.revoke(token_id, STATE.actor)
    console.print(f"revoked token {token.id} ({token.role}, tenant {token.tenant})", markup=False)


def serve(
    host: str | None = typer.Option(
        None, "--host", help="Default INFOBARRIER_HOST, else 127.0.0.1", show_default=False
    ),
    port: int | None = typer.Option(
        None, "--port", help="Default INFOBARRIER_PORT, else 8000", show_default=False
    ),
    demo: bool = typer.Option(False, "--demo", help="Load the Company ABC demo tenant first"),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        help="Server processes sharing the port, each with its own cached epochs "
        "(kept current like replicas: docs/replicas.md); default INFOBARRIER_WORKERS, else 1",
        show_default=False,
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) with uvicorn. Logs: one line per request,
    JSON unless stderr is a terminal (``INFOBARRIER_LOG_FORMAT=json|text`` decides)."""
    import uvicorn

    from infobarrier.http.app import DB_VARIABLE, create_app
    from infobarrier.http.logs import log_config

    settings = STATE.settings
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    workers = settings.workers if workers is None else workers
    services = STATE.services
    if demo:
        from infobarrier.cli.tenant_cmds import show_demo
        from infobarrier.demo import abc

        abc.load(services, STATE.actor)
        show_demo()
        _record, plain = services.tokens.create(abc.TENANT, Role.ADMIN, STATE.actor, "demo admin")
        base = f"http://{host}:{port}"
        console.print(f"Company ABC demo tenant '{abc.TENANT}' loaded and applied.", markup=False)
        console.print(f"API:      {base}/v1/tenants/{abc.TENANT}/", markup=False)
        console.print(f"OpenAPI:  {base}/docs", markup=False)
        console.print(
            f"Web:      {base}/  (sign in with tenant abc and the token below)", markup=False
        )
        console.print(f"Admin token for '{abc.TENANT}' (shown once):", markup=False)
        typer.echo(plain)
        console.print(
            f'Try: curl -H "Authorization: Bearer $TOKEN" '
            f'"{base}/v1/tenants/{abc.TENANT}/relationship?a=v1-ra1@abc.example&b=se2a@abc.example"',
            markup=False,
        )
    if workers == 1:
        uvicorn.run(
            create_app(services, feed=True),
            host=host,
            port=port,
            log_level="info",
            log_config=log_config(),
            access_log=False,  # one line per request from http.observe instead
        )
        return
    # Each worker process builds its own services from the same database (environment).
    services.store.dispose()
    os.environ[DB_VARIABLE] = STATE.db
    uvicorn.run(
        "infobarrier.http.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(tokens, name="tokens")
    app.command("serve")(serve)
