"""``serve`` and ``tokens`` commands."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

from infobarrier.cli.output import console, print_json, table
from infobarrier.cli.state import STATE
from infobarrier.core.errors import InvalidInput

if TYPE_CHECKING:
    from infobarrier.service.wiring import Services

tokens = typer.Typer(help="Bearer tokens for the HTTP API: one tenant, one role each.")


@tokens.command("create")
def tokens_create(
    tenant: str = typer.Option(..., "--tenant", help="The tenant the token is bound to"),
    role: str = typer.Option(..., "--role", help="admin|auditor|enforcer|provisioner|compliance"),
    label: str = typer.Option("", "--label", help="What the token is for"),
    person: str | None = typer.Option(
        None, "--for", help="The person it is issued to (named in the audit log; four eyes)"
    ),
    expires: str | None = typer.Option(
        None,
        "--expires",
        help="ISO 8601 instant after which the token is refused (UTC if no offset)",
    ),
    ttl: int | None = typer.Option(
        None, "--ttl", help="Days until the token is refused (instead of --expires)"
    ),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from infobarrier.service.tokens import parse_role

    expires_at = token_expiry(expires, ttl)
    record, plain = STATE.services.tokens.create(
        tenant, parse_role(role), STATE.actor, label, person=person, expires_at=expires_at
    )
    holder = f", for {record.person}" if record.person else ""
    until = f", expires {record.expires_at.isoformat()}" if record.expires_at else ""
    console.print(
        f"token {record.id} ({record.role}{holder}) for tenant {tenant}{until}:", markup=False
    )
    typer.echo(plain)


def token_expiry(expires: str | None, ttl: int | None) -> datetime | None:
    """The expiry from ``--expires`` or ``--ttl`` (at most one), or ``None``."""
    if expires is not None and ttl is not None:
        raise InvalidInput("give --expires or --ttl, not both")
    if ttl is not None:
        if not 1 <= ttl <= MAX_TTL_DAYS:
            raise InvalidInput(f"--ttl must be between 1 and {MAX_TTL_DAYS} days")
        return datetime.now(UTC) + timedelta(days=ttl)
    if expires is None:
        return None
    try:
        parsed = datetime.fromisoformat(expires.strip())
    except ValueError:
        raise InvalidInput(
            f"--expires {expires!r} is not an ISO 8601 date or time (e.g. 2027-01-31T18:00Z)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


#: The longest ``--ttl``: a hundred years is "never" said differently.
MAX_TTL_DAYS = 36_500


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


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
                    "expires": t.expires_at.isoformat() if t.expires_at else None,
                    "last_used": t.last_used_at.isoformat() if t.last_used_at else None,
                }
                for t in found
            ]
        )
        return
    table(
        "Tokens",
        ["id", "tenant", "role", "label", "for", "created", "expires", "last used", "revoked"],
        [
            (
                t.id,
                t.tenant,
                t.role,
                t.label,
                t.person or "",
                _when(t.created_at),
                _when(t.expires_at),
                _when(t.last_used_at),
                _when(t.revoked_at),
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
        from infobarrier.service.tokens import Role

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
    early = None
    if workers == 1:
        # The epochs in force load while the HTTP stack imports (docs/decisions.md, "serve
        # starts"); the app's own warm-up then finds them cached.
        services.build_all()
        services.epochs.freeze_heap = True  # as the feed sets it: a server's epochs
        early = threading.Thread(
            target=_warm_quietly, args=(services,), name="early-warm", daemon=True
        )
        early.start()
    import uvicorn

    from infobarrier.http.app import DB_VARIABLE, create_app
    from infobarrier.http.logs import log_config
    from infobarrier.http.metrics import multiprocess_dir

    if early is not None:
        app = create_app(services, feed=True)
        early.join()
        uvicorn.run(
            app,
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
    with multiprocess_dir() as directory:  # /metrics adds up every worker's counters
        console.print(f"{workers} workers; their metrics in {directory}", markup=False)
        uvicorn.run(
            "infobarrier.http.app:app_from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            log_config=log_config(),
            access_log=False,
            # A worker loads every tenant's epoch at start-up (``/readyz``); compiling a
            # large tenant (or importing on a busy machine) can keep it from answering
            # uvicorn's 5-second ping, which would then restart it, again and again.
            timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        )


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(tokens, name="tokens")
    app.command("serve")(serve)


def _warm_quietly(services: Services) -> None:
    """Load every tenant's epoch in force; a failure is left to the app's own warm-up,
    which retries until the store answers (``/readyz`` says no meanwhile)."""
    try:
        services.operations.warm()
    except Exception:
        logging.getLogger(__name__).info("early loading of the epochs failed", exc_info=True)
