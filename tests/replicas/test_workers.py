"""``infobarrier serve --workers 2``: two processes on one SQLite file answer as one.

Each worker caches its own epoch; every request compares the tenant's version first, so
a change made through one worker is in the very next answer of either (docs/replicas.md).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from replica_support import ANALYST, BANKER, seed_bank

from infobarrier.core.barriers import PolicyState
from live_server import start_server, stop_server

PAIR = {"a": ANALYST, "b": BANKER}


def test_two_workers_answer_every_change_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    tokens = seed_bank(url, wall=PolicyState.ACTIVE)
    process, base = start_server(url, tmp_path / "server.log", workers=2)
    headers = {"Authorization": f"Bearer {tokens[('bank', 'admin')]}"}
    try:
        pids = {httpx.get(f"{base}/healthz", timeout=10).json()["worker"] for _ in range(200)}
        assert len(pids) == 2  # both processes take connections

        def answers() -> set[bool]:
            """The verdict of 20 requests, each on a new connection (either worker)."""
            found = set()
            for _ in range(20):
                response = httpx.get(
                    f"{base}/v1/tenants/bank/relationship", params=PAIR, headers=headers
                )
                assert response.status_code == 200, response.text
                found.add(response.json()["allowed"])
            return found

        assert answers() == {False}
        moved = httpx.patch(
            f"{base}/v1/tenants/bank/users/{PAIR['b']}",
            json={"attributes": {"Department": "Research"}},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text
        assert answers() == {True}  # no request answers from a stale epoch
    finally:
        stop_server(process)
