"""``infobarrier serve --workers 2``: two processes on one SQLite file answer as one.

Each worker caches its own epoch; every request compares the tenant's version first, so
a change made through one worker is in the very next answer of either (docs/replicas.md).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from infobarrier.core.barriers import PolicyState
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import build
from live_server import make_tokens, start_server

PAIR = {"a": "analyst@bank.example", "b": "banker@bank.example"}


def test_two_workers_answer_every_change_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    services = build(url)
    tokens = make_tokens(services, ["bank"])
    users = {PAIR["a"]: "Research", PAIR["b"]: "Sales"}
    services.directory.put_users(
        "bank", [make_user(u, Department=d) for u, d in users.items()], "test"
    )
    for dept in ("Research", "Sales"):
        services.barriers.new_segment("bank", dept, f"Department -eq '{dept}'", "test")
    services.barriers.new_policy(
        "bank", "wall", "Research", "test", blocked=["Sales"], state=PolicyState.ACTIVE
    )
    services.applications.apply("bank", "test")
    services.store.dispose()
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
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
