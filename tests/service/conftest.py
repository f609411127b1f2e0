"""A small tenant in a few lines."""

from __future__ import annotations

import pytest
from service_builders import ACTOR, MakeTenant

from infobarrier.core.barriers import Mode
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import Services


@pytest.fixture
def make_tenant(services: Services) -> MakeTenant:
    """Create a tenant whose users are given as ``{upn: department}``."""

    def build(name: str, users: dict[str, str], mode: Mode = Mode.SINGLE_SEGMENT) -> str:
        services.tenants.create(name, mode, ACTOR)
        services.directory.put_users(
            name, [make_user(upn, Department=dept) for upn, dept in users.items()], ACTOR
        )
        return name

    return build
