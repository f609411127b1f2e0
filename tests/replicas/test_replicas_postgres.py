"""Two ``infobarrier serve`` replicas on one PostgreSQL (docs/replicas.md).

An apply or a directory change through one replica is answered by the other within a
second; two applies started at once never interleave.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from replica_support import seed_bank

from infobarrier.core.barriers import PolicyState
from live_server import start_server, stop_server
from pg_cluster import Cluster


@dataclass
class Replicas:
    """Two servers on one database, an admin client for each, tokens."""

    a: httpx.Client
    b: httpx.Client


@pytest.fixture
def replicas(pg_cluster: Cluster, tmp_path: Path) -> Iterator[Replicas]:
    url = pg_cluster.database()
    tokens = seed_bank(url, wall=PolicyState.INACTIVE)
    started = [start_server(url, tmp_path / f"replica-{n}.log") for n in "ab"]
    headers = {"Authorization": f"Bearer {tokens[('bank', 'admin')]}"}
    clients = [
        httpx.Client(base_url=f"{base}/v1/tenants/bank", headers=headers, timeout=30)
        for _process, base in started
    ]
    try:
        yield Replicas(*clients)
    finally:
        for client in clients:
            client.close()
        for process, _base in started:
            stop_server(process)


def allowed(client: httpx.Client) -> bool:
    response = client.get(
        "/relationship", params={"a": "analyst@bank.example", "b": "banker@bank.example"}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["allowed"])


def seen_within(client: httpx.Client, expected: bool, seconds: float = 1.0) -> float:
    """How long until ``client`` answers ``expected``; fails after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if allowed(client) is expected:
            return time.monotonic() - start
        time.sleep(0.02)
    pytest.fail(f"the other replica did not answer {expected} within {seconds} s")


def test_apply_on_one_replica_is_seen_by_the_other(replicas: Replicas) -> None:
    assert allowed(replicas.b)  # B holds the epoch in memory now
    response = replicas.a.patch("/policies/wall", json={"state": "Active"})
    assert response.status_code == 200, response.text
    response = replicas.a.post("/applications", params={"wait": "true"})
    assert response.json()["status"] == "Completed"
    seen_within(replicas.b, expected=False)


def test_directory_change_on_one_replica_is_seen_by_the_other(replicas: Replicas) -> None:
    replicas.a.patch("/policies/wall", json={"state": "Active"})
    replicas.a.post("/applications", params={"wait": "true"})
    seen_within(replicas.b, expected=False)
    response = replicas.a.patch(
        "/users/banker@bank.example", json={"attributes": {"Department": "Research"}}
    )
    assert response.status_code == 200, response.text
    seen_within(replicas.b, expected=True)


def test_two_applies_at_once_never_interleave(replicas: Replicas) -> None:
    answers: dict[str, httpx.Response] = {}

    def start(name: str, client: httpx.Client) -> None:
        answers[name] = client.post("/applications")

    threads = [
        threading.Thread(target=start, args=(n, c))
        for n, c in (("a", replicas.a), ("b", replicas.b))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in answers.values())
    assert statuses in ([202, 202], [202, 409])
    for response in answers.values():
        if response.status_code == 409:
            body = response.json()
            assert body["code"] == "apply_running"
            assert "already running" in body["message"]
    deadline = time.monotonic() + 10
    history: list[dict] = []  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        history = replicas.a.get("/applications").json()
        if all(h["status"] != "InProgress" for h in history):
            break
        time.sleep(0.05)
    finished = sorted(
        (h for h in history if h["status"] == "Completed"), key=lambda h: h["started"]
    )
    for earlier, later in itertools.pairwise(finished):
        assert earlier["ended"] <= later["started"], (earlier, later)
