"""Every tunable of infobarrier in one object, read from ``INFOBARRIER_*`` variables.

docs/settings.md is the table of them (a test holds it to this class). ``service.wiring``
hands the settings to the parts that use them; adapters read them from ``Services``.
Command-line options (``--db``, ``serve --host/--port/--workers``) override the variables.
Sizes of internal work units (chunks of a query, blocks of a compile) are not settings:
they change speed, never answers, and are tuned by the benchmarks.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import MAX_PAIRS_PER_REQUEST

MIB = 1024 * 1024


class Settings(BaseSettings):
    """infobarrier's settings; each field is the variable ``INFOBARRIER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="INFOBARRIER_", frozen=True, extra="ignore")

    # -- where ------------------------------------------------------------------------------
    db: str = Field("sqlite:///infobarrier.db", description="Database URL (SQLite or PostgreSQL)")
    host: str = Field("127.0.0.1", description="Address `serve` listens on")
    port: int = Field(8000, ge=1, le=65_535, description="Port `serve` listens on")
    workers: int = Field(1, ge=1, le=64, description="Server processes sharing the port")
    # -- requests ---------------------------------------------------------------------------
    max_checks: int = Field(
        100_000, ge=1, description="Checks in one `POST /decisions` (more: 413 too_many_checks)"
    )
    max_pairs: int = Field(
        MAX_PAIRS_PER_REQUEST,
        ge=1,
        description="Pairs of users one `POST /decisions` or AuthZEN request may require in "
        "all (a group check of n recipients: n + n(n-1)/2; more: 413 too_large)",
    )
    inline_pairs: int = Field(
        2_000,
        ge=0,
        description="Batches requiring up to this many pairs of users (and checks) are "
        "answered on the event loop; others in the thread pool",
    )
    inline_body_bytes: int = Field(
        256 * 1024,
        ge=0,
        description="`POST /decisions` bodies over this many bytes are parsed in the thread pool",
    )
    body_limit_decisions: int = Field(
        16 * MIB, ge=1, description="Largest body of `POST /decisions`, in bytes (more: 413)"
    )
    body_limit_groups: int = Field(
        8 * MIB, ge=1, description="Largest body of a groups request, in bytes"
    )
    body_limit_scim: int = Field(4 * MIB, ge=1, description="Largest SCIM body, in bytes")
    body_limit_imports: int = Field(
        256 * MIB,
        ge=1,
        description="Largest file the admin page imports (users CSV, groups CSV, PowerShell), "
        "in bytes",
    )
    body_limit_default: int = Field(
        1 * MIB, ge=1, description="Largest body of any other request, in bytes"
    )
    whatif_list_limit: int = Field(
        1_000, ge=1, description="Entries each list of a what-if shows (totals are complete)"
    )
    # -- caches -----------------------------------------------------------------------------
    explanations_kept: int = Field(
        100_000, ge=1, description="Explained profile pairs kept per epoch lineage"
    )
    verdict_fragments_kept: int = Field(
        100_000,
        ge=1,
        description="Profile pairs whose verdict JSON the decisions batch keeps per lineage",
    )
    patch_limit: int = Field(
        5_000,
        ge=0,
        description="Changed users up to which a cached epoch is patched, not recompiled",
    )
    overlay_limit: int = Field(
        4_096, ge=0, description="Patched users an epoch holds before its arrays are rebuilt"
    )
    token_trust_seconds: float = Field(
        2.0, ge=0, description="How long a verified token is trusted without a query"
    )
    changes_kept: int = Field(
        1_000, ge=1, description="Change records per tenant (a replica further behind recompiles)"
    )
    # -- timeouts ---------------------------------------------------------------------------
    sqlite_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a writer waits for the write lock before the error busy (503)",
    )
    worker_healthcheck_seconds: int = Field(
        120,
        ge=1,
        description="With `serve --workers N`: how long a worker may leave the supervisor's "
        "health ping unanswered (starting up included) before it is restarted",
    )
    feed_poll_seconds: float = Field(
        1.0, gt=0, description="How often a server polls the tenants' versions (a replica's lag)"
    )


def load(**overrides: object) -> Settings:
    """The settings from the environment, with ``overrides`` (command-line options, ``None``
    for an option not given) on top; a bad value is an error that names the variable."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"INFOBARRIER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidInput(f"bad setting: {problems}") from None
