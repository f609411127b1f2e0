"""Bearer tokens: a tenant's own (:class:`TokenRepository`) and the lookup by token id.

A presented token names its id, not its tenant, so verifying it needs one lookup across
tenants (:class:`TokenCatalog`); it returns the token's tenant, and nothing else of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from infobarrier.core.errors import NotFound
from infobarrier.store.records import Token, aware, utcnow
from infobarrier.store.schema import TenantRow, TokenRow
from infobarrier.store.scoped import TenantScoped


def _token(row: TokenRow, tenant: str) -> Token:
    return Token(
        row.id,
        tenant,
        row.role,
        row.label,
        aware(row.created_at) or utcnow(),
        aware(row.revoked_at),
        row.secret_hash,
        aware(row.expires_at),
        aware(row.last_used_at),
        row.person,
    )


class TokenRepository(TenantScoped):
    """The tokens of one tenant."""

    __slots__ = ()

    def add(
        self,
        token_id: str,
        role: str,
        secret_hash: str,
        label: str = "",
        expires_at: datetime | None = None,
        person: str | None = None,
    ) -> Token:
        """Store a token's hash."""
        row = TokenRow(
            id=token_id,
            tenant_id=self._tid,
            role=role,
            secret_hash=secret_hash,
            label=label,
            created_at=utcnow(),
            expires_at=expires_at,
            person=person,
        )
        self._session.add(row)
        self._session.flush()
        return _token(row, self._tenant.name)

    def all(self) -> list[Token]:
        """The tenant's tokens, oldest first."""
        rows = self._session.scalars(
            select(TokenRow).where(TokenRow.tenant_id == self._tid).order_by(TokenRow.created_at)
        )
        return [_token(r, self._tenant.name) for r in rows]

    def revoke(self, token_id: str) -> Token:
        """Mark one of the tenant's tokens revoked (idempotent), or :class:`NotFound`."""
        row = self._session.scalar(
            select(TokenRow).where(TokenRow.tenant_id == self._tid, TokenRow.id == token_id)
        )
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            self._session.flush()
        return _token(row, self._tenant.name)


class TokenCatalog:
    """Tokens looked up by id, across tenants: what verifying a presented token needs."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, token_id: str) -> Token | None:
        """A token by id, with its tenant's name."""
        row = self._session.execute(
            select(TokenRow, TenantRow.name)
            .join(TenantRow, TenantRow.id == TokenRow.tenant_id)
            .where(TokenRow.id == token_id)
        ).first()
        return _token(row[0], row[1]) if row is not None else None

    def all(self) -> list[Token]:
        """Every token of every tenant, oldest first."""
        query = select(TokenRow, TenantRow.name).join(TenantRow, TenantRow.id == TokenRow.tenant_id)
        rows = self._session.execute(query.order_by(TokenRow.created_at))
        return [_token(r, n) for r, n in rows]

    def touch(self, token_id: str, at: datetime, *, older_than: datetime) -> None:
        """Record a use of a token, unless one was recorded since ``older_than``."""
        self._session.execute(
            update(TokenRow)
            .where(
                TokenRow.id == token_id,
                or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at < older_than),
            )
            .values(last_used_at=at)
        )
