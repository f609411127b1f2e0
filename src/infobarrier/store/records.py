"""What the repositories hand out: plain frozen values, never ORM rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infobarrier.core.barriers import Mode
from infobarrier.core.codes import ApplicationState


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every datetime we hand out is aware UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


#: Ids per ``IN (...)`` list: under the 999 bound parameters of older SQLite builds.
CHUNK = 500


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Distinct ids in sorted lists of at most :data:`CHUNK`."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        yield wanted[start : start + CHUNK]


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant as stored."""

    id: int
    name: str
    mode: Mode
    people_search_restriction: bool
    created_at: datetime
    version: int = 0


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token's record (the secret itself is never stored)."""

    id: str
    tenant: str
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
    secret_hash: str
    #: After this instant the token no longer works (``None``: never expires).
    expires_at: datetime | None = None
    #: When the token was last accepted, to the minute (``None``: never used).
    last_used_at: datetime | None = None
    #: The person it was issued to (four eyes need names), if given.
    person: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message."""

    id: int
    chat_id: str
    sender_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Application:
    """One policy application and its status (semantics §5)."""

    id: str
    seq: int
    status: ApplicationState
    actor: str
    started_at: datetime
    ended_at: datetime | None
    total_recipients: int
    failed_recipients: int
    percent: int
    host: str
    pid: int
    error: str
    report: dict[str, Any]
