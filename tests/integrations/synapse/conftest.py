"""One infobarrier store with the seed's Company ABC, a real ``infobarrier serve`` over it, and
four real homeservers enforcing tenant ``abc``: one deciding in-process from the store, two
asking the service (``url`` mode: one reconciling at start only, one every half second),
one in-process over a store nobody can reach (started last, it finishes starting while the
other tests run). Once for the package's tests.

Beside the seed, the tenant has Dana (Department ``Operations``, in no segment: she reaches
everyone) and a segment ``ABC_Legal`` (``Department -eq 'Legal'``) that V1's allow lists
leave out: a SCIM change of Dana's department separates her from V1's account."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from synapse_server import launch_homeserver, wait_until_ready
from synapse_world import PEOPLE, World

from infobarrier.core.directory import make_user
from infobarrier.demo import abc
from infobarrier.service.wiring import build
from live_server import free_port, make_tokens, start_server, stop_server

MODULE = "infobarrier_synapse.InformationBarrierModule"
TEMPLATE = "{localpart}@abc.example"
#: A segment by department (none of the seed's people is in it).
LEGAL = "ABC_Legal"


@pytest.fixture(scope="package")
def world() -> Iterator[World]:
    """Everything started once; stopped at the end."""
    # Not under pytest's numbered temporary folders: other pytest runs on the machine prune
    # those while the homeservers still use theirs.
    root = Path(tempfile.mkdtemp(prefix="infobarrier-synapse-"))
    db_url = f"sqlite:///{root / 'infobarrier.db'}"
    services = build(db_url)
    abc.load(services, "test")
    dana = make_user(
        abc.upn("dana"), display_name="Dana", Department="Operations", Company="Company ABC"
    )
    services.directory.create_user(abc.TENANT, dana, "test")
    services.barriers.new_segment(abc.TENANT, LEGAL, "Department -eq 'Legal'", "test")
    services.applications.apply(abc.TENANT, "test")
    tokens = make_tokens(services, [abc.TENANT])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    local = remote = follow = down = process = None
    try:  # the service and two homeservers start together: most of their start is importing
        local = launch_homeserver(
            root / "local",
            [
                {
                    "module": MODULE,
                    "config": {
                        "tenant": abc.TENANT,
                        "database": db_url,
                        "user_id_to_upn": TEMPLATE,
                        "unknown_users": "deny",
                        "on_unavailable": "deny",
                        "poll_seconds": 0.5,
                    },
                }
            ],
        )
        remote = launch_homeserver(
            root / "remote",
            [
                {
                    "module": MODULE,
                    "config": {
                        "tenant": abc.TENANT,
                        "url": base,
                        "token": tokens[(abc.TENANT, "enforcer")],
                        "user_id_to_upn": TEMPLATE,
                        "unknown_users": "deny",
                        "on_unavailable": "deny",
                        # Reconciliation here runs at start only, so a room the barrier
                        # separates stays observable (the local homeserver removes members).
                        "poll_seconds": 3600,
                        # One request per search result: generous on a loaded test machine.
                        "timeout_seconds": 15,
                    },
                }
            ],
        )
        follow = launch_homeserver(
            root / "follow",
            [
                {
                    "module": MODULE,
                    "config": {
                        "tenant": abc.TENANT,
                        "url": base,
                        "token": tokens[(abc.TENANT, "enforcer")],
                        "user_id_to_upn": TEMPLATE,
                        "unknown_users": "deny",
                        "on_unavailable": "deny",
                        # url mode reconciling every poll (asking each room's pairs).
                        "poll_seconds": 0.5,
                        "timeout_seconds": 15,
                    },
                }
            ],
        )
        process, _base = start_server(db_url, root / "serve.log", port=port, timeout=90)
        for hs in (local, remote, follow):
            wait_until_ready(hs)
        # In-process mode over a store that cannot be reached (nothing listens there).
        unreachable = f"postgresql+psycopg://infobarrier@127.0.0.1:{free_port()}/infobarrier"
        down = launch_homeserver(
            root / "down",
            [
                {
                    "module": MODULE,
                    "config": {
                        "tenant": abc.TENANT,
                        "database": unreachable,
                        "user_id_to_upn": TEMPLATE,
                        "on_unavailable": "deny",
                    },
                }
            ],
        )
        # ``down`` finishes starting while the other tests run (its test waits for it).
        ids: dict[str, str] = {}
        for hs in (local, remote, follow):
            for localpart, name in PEOPLE.items():
                ids[localpart] = hs.register(localpart, display_name=name)
            admin = hs.register("ops", admin=True)
        yield World(
            services, db_url, base, tokens, process, local, remote, follow, down, ids, admin
        )
    finally:
        for hs in (local, remote, follow, down):
            if hs is not None:
                hs.stop()
        if process is not None:
            stop_server(process)
        services.store.dispose()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["local", "remote"])
def mode(request: pytest.FixtureRequest) -> str:
    """Each scenario on both homeservers."""
    return str(request.param)
