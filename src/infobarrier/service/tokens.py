"""Bearer tokens: each bound to one tenant and one role (docs/interfaces.md, "Tokens and roles").

A token reads ``ib_<id>_<secret>``; only a SHA-256 of the whole token is stored, so a
leaked database does not leak working tokens. Comparison is constant-time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from infobarrier.core.errors import Busy, InvalidInput, NotFound
from infobarrier.service.context import Context
from infobarrier.store.records import Token


class Role(StrEnum):
    """What a token may do."""

    ADMIN = "admin"  # everything
    AUDITOR = "auditor"  # every GET
    ENFORCER = "enforcer"  # decisions, relationship, search, collaboration objects
    PROVISIONER = "provisioner"  # SCIM only
    #: A compliance officer: approves and revokes exceptions, reads everything (§11).
    COMPLIANCE = "compliance"


def parse_role(text: str) -> Role:
    """A role by name, or a clear error."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {text!r}: expected one of {valid}") from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id (the audit actor), tenant, role, and the person the
    token was issued to (``tokens create --for NAME``), if any."""

    token_id: str
    tenant: str
    role: Role
    person: str | None = None


#: A token's last use is recorded at most this often: not a write on every request.
LAST_USE_EVERY = timedelta(minutes=1)

#: How long a verified token is trusted without asking the store again (the default of
#: the setting ``token_trust_seconds``). Revocation in this process takes effect at once;
#: another replica notices within this many seconds.
TRUST_SECONDS = 2.0


class TokenHandler:
    """Create, list, revoke and verify tokens."""

    def __init__(self, ctx: Context, *, trust_seconds: float = TRUST_SECONDS) -> None:
        self.ctx = ctx
        self.trust_seconds = trust_seconds
        self._trusted: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def create(
        self,
        tenant: str,
        role: Role,
        actor: str,
        label: str = "",
        *,
        expires_at: datetime | None = None,
        person: str | None = None,
    ) -> tuple[Token, str]:
        """A new token; the plain text is returned once and never stored.

        ``expires_at`` (aware, in the future): the token is refused from then on.
        ``person``: who it is issued to (the audit log names them; four eyes tell them
        apart).
        """
        if person is not None:
            person = person.strip()
            if not person or len(person) > 256 or not person.isprintable():
                raise InvalidInput("--for takes a printable name of at most 256 characters")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                expires_at = expires_at.replace(tzinfo=UTC)
            if expires_at <= datetime.now(UTC):
                raise InvalidInput(f"the expiry {expires_at.isoformat()} is not in the future")
        token_id = secrets.token_hex(8)
        plain = f"ib_{token_id}_{secrets.token_urlsafe(32)}"
        with self.ctx.tenant_tx(tenant, actor) as tx:
            record = tx.repos.tokens.add(
                token_id, role.value, _digest(plain), label, expires_at=expires_at, person=person
            )
            tx.audit(
                "token.created",
                token=token_id,
                role=role.value,
                label=label,
                expires_at=expires_at.isoformat() if expires_at is not None else None,
                person=person,
            )
        return record, plain

    def list(self, tenant: str | None = None) -> list[Token]:
        """Tokens of one tenant, or of all."""
        if tenant:
            with self.ctx.tenant_tx(tenant, "", write=False) as tx:
                return tx.repos.tokens.all()
        with self.ctx.store.transaction(write=False) as transaction:
            return transaction.tokens.all()

    def revoke(self, token_id: str, actor: str) -> Token:
        """Revoke a token; it stops working at once."""
        with self._lock:
            self._trusted.clear()
        with self.ctx.store.transaction(write=False) as transaction:
            found = transaction.tokens.find(token_id)
        if found is None:
            raise NotFound(f"no token {token_id!r}")
        with self.ctx.tenant_tx(found.tenant, actor) as tx:
            token = tx.repos.tokens.revoke(token_id)
            tx.audit("token.revoked", token=token_id)
            return token

    def trusted(self, plain: str) -> Principal | None:
        """The principal of a token verified in the last ``trust_seconds`` (no query, no
        I/O: an event loop may call it), else ``None`` (then :meth:`verify` decides)."""
        digest = _digest(plain)
        with self._lock:
            found = self._trusted.get(digest)
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def verify(self, plain: str) -> Principal | None:
        """The principal of a valid, unrevoked, unexpired token, or ``None``.

        A token verified in the last ``trust_seconds`` is trusted without a query (never
        past its expiry).
        """
        digest = _digest(plain)
        now = time.monotonic()
        with self._lock:
            trusted = self._trusted.get(digest)
        if trusted is not None and trusted[1] > now:
            return trusted[0]
        found = self._verify(plain, digest)
        if found is None:
            return None
        principal, expires_at = found
        trust_until = now + self.trust_seconds
        if expires_at is not None:
            left = (expires_at - datetime.now(UTC)).total_seconds()
            trust_until = min(trust_until, now + left)
        with self._lock:
            if len(self._trusted) > 10_000:
                self._trusted.clear()
            self._trusted[digest] = (principal, trust_until)
        return principal

    def _verify(self, plain: str, digest: str) -> tuple[Principal, datetime | None] | None:
        parts = plain.split("_", 2)
        if len(parts) != 3 or parts[0] != "ib":
            return None
        with self.ctx.store.transaction(write=False) as transaction:
            token = transaction.tokens.find(parts[1])
        if token is None or token.revoked_at is not None:
            return None
        if not hmac.compare_digest(token.secret_hash, digest):
            return None
        wall = datetime.now(UTC)
        if token.expires_at is not None and token.expires_at <= wall:
            return None
        if token.last_used_at is None or token.last_used_at < wall - LAST_USE_EVERY:
            self._touch(token.id, wall)
        principal = Principal(token.id, token.tenant, Role(token.role), token.person)
        return principal, token.expires_at

    def _touch(self, token_id: str, wall: datetime) -> None:
        """Record a use (at most once per :data:`LAST_USE_EVERY` per token); best effort."""
        with (
            contextlib.suppress(SQLAlchemyError, Busy),
            self.ctx.store.transaction() as transaction,
        ):
            transaction.tokens.touch(token_id, wall, older_than=wall - LAST_USE_EVERY)
