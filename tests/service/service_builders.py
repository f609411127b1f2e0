"""Builders shared by the service tests."""

from __future__ import annotations

from collections.abc import Callable

ACTOR = "test"

#: ``make_tenant(name, {upn: department})`` creates a tenant with those users.
MakeTenant = Callable[..., str]
