"""Token expiry and last use: an expired token is refused; a use is recorded once a minute."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from infobarrier.core.barriers import Mode
from infobarrier.core.errors import InvalidInput
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role, TokenHandler
from infobarrier.service.wiring import Services
from infobarrier.store.schema import TokenRow


def _set(services: Services, token_id: str, **values: object) -> None:
    with services.store.engine.begin() as connection:
        connection.execute(update(TokenRow).where(TokenRow.id == token_id).values(**values))


def _fresh(services: Services) -> TokenHandler:
    """A handler with an empty trust cache (as another replica would be)."""
    return TokenHandler(services.tokens.ctx)


@pytest.fixture
def tenant(services: Services) -> str:
    services.tenants.create("acme", Mode.SINGLE_SEGMENT, "test")
    return "acme"


def test_an_expired_token_is_refused(services: Services, tenant: str) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    record, plain = services.tokens.create(tenant, Role.AUDITOR, "test", expires_at=soon)
    assert record.expires_at == soon
    assert _fresh(services).verify(plain) is not None
    _set(services, record.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert _fresh(services).verify(plain) is None
    with TestClient(create_app(services)) as http:
        response = http.get(
            f"/v1/tenants/{tenant}/users", headers={"Authorization": f"Bearer {plain}"}
        )
        assert response.status_code == 401


def test_an_expiry_in_the_past_is_refused(services: Services, tenant: str) -> None:
    with pytest.raises(InvalidInput, match="not in the future"):
        services.tokens.create(tenant, Role.ADMIN, "test", expires_at=datetime.now(UTC))
    assert services.tokens.list(tenant) == []


def test_last_use_is_recorded_at_most_once_a_minute(services: Services, tenant: str) -> None:
    record, plain = services.tokens.create(tenant, Role.AUDITOR, "test")
    assert record.last_used_at is None
    assert _fresh(services).verify(plain) is not None
    [first] = services.tokens.list(tenant)
    assert first.last_used_at is not None
    recent = datetime.now(UTC) - timedelta(seconds=30)
    _set(services, record.id, last_used_at=recent)
    assert _fresh(services).verify(plain) is not None
    assert services.tokens.list(tenant)[0].last_used_at == recent  # not rewritten
    old = datetime.now(UTC) - timedelta(minutes=2)
    _set(services, record.id, last_used_at=old)
    assert _fresh(services).verify(plain) is not None
    used = services.tokens.list(tenant)[0].last_used_at
    assert used is not None
    assert used > old + timedelta(minutes=1)


def test_cli_expiry_options_and_list(cli: Any) -> None:
    cli.ok("tenants", "create", "acme")
    cli.ok("tokens", "create", "--tenant", "acme", "--role", "admin", "--ttl", "30")
    cli.ok(
        "tokens", "create", "--tenant", "acme", "--role", "auditor", "--expires", "2999-01-31T18:00"
    )
    listed = json.loads(cli.ok("tokens", "list", "--json", tenant="acme"))
    expiries = sorted(datetime.fromisoformat(t["expires"]) for t in listed)
    in_30_days = datetime.now(UTC) + timedelta(days=30)
    assert abs(expiries[0] - in_30_days) < timedelta(minutes=5)
    assert expiries[1] == datetime(2999, 1, 31, 18, 0, tzinfo=UTC)
    assert all(t["last_used"] is None for t in listed)
    table = cli.ok("tokens", "list", tenant="acme")
    assert "expires" in table
    assert "last used" in table
    for bad, message in (
        (["--expires", "next tuesday"], "not an ISO 8601"),
        (["--expires", "2001-01-01"], "not in the future"),
        (["--ttl", "0"], "--ttl must be between"),
        (["--ttl", "3", "--expires", "2999-01-01"], "not both"),
    ):
        result = cli("tokens", "create", "--tenant", "acme", "--role", "admin", *bad)
        assert result.code != 0
        assert message in result.err
    assert len(json.loads(cli.ok("tokens", "list", "--json", tenant="acme"))) == 2
