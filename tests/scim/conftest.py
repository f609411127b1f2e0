"""The SCIM endpoint in-process: tenants ``contoso`` and ``fabrikam``, a token per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from scim_support import Scim

from infobarrier.core.barriers import Mode
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services

TENANTS = ("contoso", "fabrikam")


@pytest.fixture
def scim(services: Services) -> Iterator[Scim]:
    """The app over a fresh store; tenants ``contoso`` and ``fabrikam``, a token per role."""
    tokens: dict[tuple[str, str], str] = {}
    for tenant in TENANTS:
        services.tenants.create(tenant, Mode.SINGLE_SEGMENT, "test")
        for role in Role:
            _record, plain = services.tokens.create(tenant, role, "test")
            tokens[(tenant, role.value)] = plain
    with TestClient(create_app(services)) as http:
        yield Scim(services, http, tokens)
