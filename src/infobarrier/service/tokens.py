"""Bearer tokens: each bound to one tenant and one role (docs/interfaces.md, "Tokens and roles").

A token reads ``ib_<id>_<secret>``; only a SHA-256 of the whole token is stored, so a
leaked database does not leak working tokens. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from infobarrier.core.errors import InvalidInput
from infobarrier.service.context import Context
from infobarrier.store.repository import Token


class Role(StrEnum):
    """What a token may do."""

    ADMIN = "admin"  # everything
    AUDITOR = "auditor"  # every GET
    ENFORCER = "enforcer"  # decisions, relationship, search, collaboration objects
    PROVISIONER = "provisioner"  # SCIM only


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
    """Who is calling: the token's id (the audit actor), tenant and role."""

    token_id: str
    tenant: str
    role: Role


#: How long a verified token is trusted without asking the store again. Revocation in
#: this process takes effect at once; another replica notices within this many seconds.
TRUST_SECONDS = 2.0


class TokenHandler:
    """Create, list, revoke and verify tokens."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._trusted: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def create(self, tenant: str, role: Role, actor: str, label: str = "") -> tuple[Token, str]:
        """A new token; the plain text is returned once and never stored."""
        token_id = secrets.token_hex(8)
        plain = f"ib_{token_id}_{secrets.token_urlsafe(32)}"
        with self.ctx.tenant_tx(tenant, actor) as tx:
            record = tx.repo.add_token(tx.tenant, token_id, role.value, _digest(plain), label)
            tx.audit("token.created", token=token_id, role=role.value, label=label)
        return record, plain

    def list(self, tenant: str | None = None) -> list[Token]:
        """Tokens of one tenant, or of all."""
        with self.ctx.store.transaction() as repo:
            return repo.tokens(repo.tenant(tenant) if tenant else None)

    def revoke(self, token_id: str, actor: str) -> Token:
        """Revoke a token; it stops working at once."""
        with self._lock:
            self._trusted.clear()
        with self.ctx.store.transaction() as repo:
            token = repo.revoke_token(token_id)
            repo.append_audit(
                repo.tenant(token.tenant), actor, "token.revoked", {"token": token_id}
            )
            return token

    def verify(self, plain: str) -> Principal | None:
        """The principal of a valid, unrevoked token, or ``None``.

        A token verified in the last :data:`TRUST_SECONDS` is trusted without a query.
        """
        digest = _digest(plain)
        now = time.monotonic()
        with self._lock:
            trusted = self._trusted.get(digest)
        if trusted is not None and trusted[1] > now:
            return trusted[0]
        principal = self._verify(plain, digest)
        if principal is not None:
            with self._lock:
                if len(self._trusted) > 10_000:
                    self._trusted.clear()
                self._trusted[digest] = (principal, now + TRUST_SECONDS)
        return principal

    def _verify(self, plain: str, digest: str) -> Principal | None:
        parts = plain.split("_", 2)
        if len(parts) != 3 or parts[0] != "ib":
            return None
        with self.ctx.store.transaction() as repo:
            token = repo.find_token(parts[1])
        if token is None or token.revoked_at is not None:
            return None
        if not hmac.compare_digest(token.secret_hash, digest):
            return None
        return Principal(token.id, token.tenant, Role(token.role))
