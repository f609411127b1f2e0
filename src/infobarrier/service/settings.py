"""Every tunable of infobarrier in one object, read from ``INFOBARRIER_*`` variables.

docs/settings.md is the table of them (a test holds it to this class). ``service.wiring``
hands the settings to the parts that use them; adapters read them from ``Services``.
Command-line options (``--db``, ``serve --host/--port/--workers``) override the variables.
Sizes of internal work units (chunks of a query, blocks of a compile) are not settings:
they change speed, never answers, and are tuned by the benchmarks.

The class is a plain frozen dataclass with a small reader rather than pydantic-settings:
every command of the command line reads the settings, and importing pydantic-settings and
building its model cost 0.04 s of CPU per command on the reference machine (docs/settings.md,
"Why not pydantic-settings"). The reader does what that library did for us: one variable per
field, the value converted to the field's type, the bounds checked, and a bad value named by
its variable.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any

from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import MAX_PAIRS_PER_REQUEST

MIB = 1024 * 1024

#: The prefix of every variable.
PREFIX = "INFOBARRIER_"


def setting(
    default: Any,
    *,
    description: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
) -> Any:
    """A field of :class:`Settings`: its default, its documentation and its bounds."""
    bounds = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le)) if v is not None}
    return field(default=default, metadata={"description": description, **bounds})


@dataclass(frozen=True, slots=True)
class Settings:
    """infobarrier's settings; each field is the variable ``INFOBARRIER_<NAME>``.

    Constructing one checks every value (a bad one raises :class:`InvalidInput` naming its
    variable); :func:`load` reads them from the environment.
    """

    # -- where ------------------------------------------------------------------------------
    db: str = setting("sqlite:///infobarrier.db", description="Database URL (SQLite or PostgreSQL)")
    host: str = setting("127.0.0.1", description="Address `serve` listens on")
    port: int = setting(8000, ge=1, le=65_535, description="Port `serve` listens on")
    workers: int = setting(1, ge=1, le=64, description="Server processes sharing the port")
    # -- requests ---------------------------------------------------------------------------
    max_checks: int = setting(
        100_000, ge=1, description="Checks in one `POST /decisions` (more: 413 too_many_checks)"
    )
    max_pairs: int = setting(
        MAX_PAIRS_PER_REQUEST,
        ge=1,
        description="Pairs of users one `POST /decisions` or AuthZEN request may require in "
        "all (a group check of n recipients: n + n(n-1)/2; more: 413 too_large)",
    )
    inline_pairs: int = setting(
        2_000,
        ge=0,
        description="Batches requiring up to this many pairs of users (and checks) are "
        "answered on the event loop; others in the thread pool",
    )
    inline_body_bytes: int = setting(
        256 * 1024,
        ge=0,
        description="`POST /decisions` bodies over this many bytes are parsed in the thread pool",
    )
    body_limit_decisions: int = setting(
        16 * MIB, ge=1, description="Largest body of `POST /decisions`, in bytes (more: 413)"
    )
    body_limit_groups: int = setting(
        8 * MIB, ge=1, description="Largest body of a groups request, in bytes"
    )
    body_limit_scim: int = setting(4 * MIB, ge=1, description="Largest SCIM body, in bytes")
    body_limit_imports: int = setting(
        256 * MIB,
        ge=1,
        description="Largest file the admin page imports (users CSV, groups CSV, PowerShell), "
        "in bytes",
    )
    body_limit_default: int = setting(
        1 * MIB, ge=1, description="Largest body of any other request, in bytes"
    )
    whatif_list_limit: int = setting(
        1_000, ge=1, description="Entries each list of a what-if shows (totals are complete)"
    )
    # -- caches -----------------------------------------------------------------------------
    explanations_kept: int = setting(
        100_000, ge=1, description="Explained profile pairs kept per epoch lineage"
    )
    verdict_fragments_kept: int = setting(
        100_000,
        ge=1,
        description="Entries of each table of verdict JSON the decision batches keep per "
        "lineage (profile pairs, refused users, answers per wrapping)",
    )
    patch_limit: int = setting(
        5_000,
        ge=0,
        description="Changed users up to which a cached epoch is patched, not recompiled",
    )
    overlay_limit: int = setting(
        4_096, ge=0, description="Patched users an epoch holds before its arrays are rebuilt"
    )
    token_trust_seconds: float = setting(
        2.0, ge=0, description="How long a verified token is trusted without a query"
    )
    changes_kept: int = setting(
        1_000, ge=1, description="Change records per tenant (a replica further behind recompiles)"
    )
    # -- timeouts ---------------------------------------------------------------------------
    sqlite_timeout_seconds: float = setting(
        10.0,
        gt=0,
        description="How long a writer waits for the write lock before the error busy (503)",
    )
    worker_healthcheck_seconds: int = setting(
        120,
        ge=1,
        description="With `serve --workers N`: how long a worker may leave the supervisor's "
        "health ping unanswered (starting up included) before it is restarted",
    )
    feed_poll_seconds: float = setting(
        1.0, gt=0, description="How often a server polls the tenants' versions (a replica's lag)"
    )

    def __post_init__(self) -> None:
        for f in fields(self):  # a whole number for a float setting is that float
            value = getattr(self, f.name)
            if str(f.type) == "float" and type(value) is int:
                object.__setattr__(self, f.name, float(value))
        problems = [p for f in fields(self) if (p := _problem(f, getattr(self, f.name)))]
        if problems:
            raise InvalidInput(f"bad setting: {'; '.join(problems)}")

    @classmethod
    def described(cls) -> list[tuple[str, Any, str]]:
        """Each setting's name, default and description, in order (docs/settings.md)."""
        return [(f.name, f.default, f.metadata["description"]) for f in fields(cls)]


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float}
_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("ge", operator.ge, "greater than or equal to"),
    ("gt", operator.gt, "greater than"),
    ("le", operator.le, "less than or equal to"),
)


def _problem(f: Field[Any], value: Any) -> str | None:
    """What is wrong with one value, naming its variable; ``None`` when nothing is."""
    name = f"{PREFIX}{f.name.upper()}"
    kind = _TYPES[str(f.type)]
    if not isinstance(value, kind) or isinstance(value, bool):
        return f"{name}: expected {kind.__name__}, found {value!r}"
    for bound, holds, words in _BOUNDS:
        if bound in f.metadata and not holds(value, f.metadata[bound]):
            return f"{name}: should be {words} {f.metadata[bound]}, found {value!r}"
    return None


def _convert(f: Field[Any], text: str) -> Any:
    """A variable's text as the field's type (left as text when it is not one: the check
    in ``Settings`` then names the variable)."""
    kind = _TYPES[str(f.type)]
    try:
        return kind(text.strip()) if kind is not str else text
    except ValueError:
        return text


def load(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """The settings from the environment, with ``overrides`` (command-line options, ``None``
    for an option not given) on top; a bad value is an error that names the variable."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        text = env.get(f"{PREFIX}{f.name.upper()}")
        if text is not None:
            values[f.name] = _convert(f, text)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
