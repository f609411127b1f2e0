"""scim2-tester's ``check_server`` against the SCIM endpoint of a real ``infobarrier serve``.

Discovery, then for ``User`` and ``Group``: creation, queries (with attributes, lists,
``.search``), replacement, deletion, and PATCH add/remove/replace of every attribute the
published schemas describe. No result may be ERROR or CRITICAL.

The checker runs with its default settings and no client-side hints: it describes the
server from its own discovery endpoints and invents ``userName`` values (bare UUIDs, not
addresses), which infobarrier turns into user principal names by the rule of docs/scim.md.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from scim2_tester import Status, check_server
from scim_support import HttpxSCIMClient, stop_server

from infobarrier.core.barriers import Mode
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build
from live_server import start_server


@pytest.fixture
def live_scim(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real server with tenant ``acme``: the tenant's SCIM base URL and a provisioner token."""
    db_url = f"sqlite:///{tmp_path / 'scim.db'}"
    services = build(db_url)
    services.tenants.create("acme", Mode.SINGLE_SEGMENT, "test")
    _record, token = services.tokens.create("acme", Role.PROVISIONER, "test")
    services.store.dispose()
    process, base = start_server(db_url, tmp_path / "server.log")
    try:
        yield f"{base}/scim/v2/acme", token
    finally:
        stop_server(process)
    check = build(db_url)
    try:
        assert check.audit.verify("acme")[1] is None
    finally:
        check.store.dispose()


@pytest.mark.slow
def test_scim2_tester_finds_no_error(live_scim: tuple[str, str]) -> None:
    base_url, token = live_scim
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        client = HttpxSCIMClient(http)
        random.seed(20261127)  # scim2-tester fills values at random: make the run repeatable
        results = check_server(client)  # default settings

    statuses = Counter(r.status for r in results)
    failures = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert not failures, "\n".join(f"{r.resource_type} {r.title}: {r.reason}" for r in failures)
    assert statuses[Status.SUCCESS] > 150, statuses
    ran = {(r.resource_type, r.title) for r in results if r.status is Status.SUCCESS}
    for resource_type in ("User", "Group"):
        for title in (
            "object_creation",
            "object_query",
            "object_replacement",
            "object_deletion",
            "check_add_attribute",
            "check_remove_attribute",
            "check_replace_attribute",
        ):
            assert (resource_type, title) in ran, (resource_type, title)
