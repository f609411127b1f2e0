"""Load and fault: enforcers ask while SCIM churns and an apply runs; the server is killed.

A real ``infobarrier serve`` on loopback. Three clients run at once for a bounded time:
enforcers posting decision batches, an identity provider creating users over SCIM and
moving them between departments, and an admin starting applications. Midway the server is
killed with SIGKILL and started again over the same database. Then:

* no answer was a 5xx other than a documented 503 (refused connections while the server
  is down are not answers);
* every SCIM change the server acknowledged (2xx) is in the database after the restart
  (a change in flight at the kill may or may not be);
* the p99 decision latency is printed (not asserted: speed is the benchmarks' business).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from http_builders import seed_for_fuzzing, upn

from infobarrier.service.wiring import build
from live_server import make_tokens, start_server, stop_server

SCIM_JSON = "application/scim+json"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DEPARTMENTS = ["Sales", "Research", "Ops", ""]

#: Seconds of load at least before the kill and after the restart; each phase also
#: waits (at most ``PHASE_LIMIT`` seconds) for a few acknowledged SCIM creations.
PHASE = 2.0
PHASE_LIMIT = 20.0


@dataclass
class Shared:
    """What the client threads share: where the server is, and what they saw."""

    base: str
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: list[tuple[str, int, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    unavailable: int = 0

    def record(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses.append((what, response.status_code, response.text[:200]))

    def call(self, what: str, send: Callable[[str], httpx.Response]) -> httpx.Response | None:
        """One request to wherever the server is now; ``None`` when it is down."""
        return self.attempt(what, send)[0]

    def attempt(
        self, what: str, send: Callable[[str], httpx.Response]
    ) -> tuple[httpx.Response | None, bool]:
        """One request, and whether a request without an answer may have reached the server.

        A refused connection never reached it; a connection dropped by the kill, or a
        client timeout, may have, and its change may be in the database or not.
        """
        try:
            response = send(self.base)
        except httpx.TransportError as error:
            with self.lock:
                self.unavailable += 1
            time.sleep(0.05)
            return None, not isinstance(error, httpx.ConnectError)
        self.record(what, response)
        return response, False


def enforcer(shared: Shared, token: str) -> None:
    people = [upn(n) for n in ("s1", "s2", "r1", "r2", "o1", "n1")]
    checks = [
        {"action": "chat", "from": a, "to": [b]} for a in people for b in people if a != b
    ] + [{"action": "group-chat", "from": people[0], "to": people[1:]}]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as client:
        while not shared.stop.is_set():
            started = time.perf_counter()
            response = shared.call(
                "decisions",
                lambda base: client.post(
                    f"{base}/v1/tenants/abc/decisions", json={"checks": checks}, headers=headers
                ),
            )
            if response is not None and response.status_code == 200:
                with shared.lock:
                    shared.latencies.append(time.perf_counter() - started)


@dataclass
class Churn:
    """What the identity provider was told happened, user by user.

    ``unknown`` keeps every department sent without an answer that may have reached the
    server, with the server's generation (0 before the kill, 1 after). An acknowledged
    change in generation 1 settles the unknown ones of generation 0 (that process is dead,
    so none of them can commit later) but not the earlier ones of its own generation: a
    request the client gave up on may still be committed after a later one.
    """

    created: set[str] = field(default_factory=set)
    department: dict[str, str] = field(default_factory=dict)  # last acknowledged
    unknown: dict[str, set[tuple[int, str]]] = field(default_factory=dict)
    generation: int = 0

    def acknowledged(self, name: str, department: str) -> None:
        self.department[name] = department
        pending = self.unknown.get(name, set())
        self.unknown[name] = {(g, d) for g, d in pending if g >= self.generation}

    def sent_without_answer(self, name: str, department: str) -> None:
        self.unknown.setdefault(name, set()).add((self.generation, department))

    def possible(self, name: str) -> set[str]:
        """The departments the database may hold for ``name`` if no acknowledged change is lost."""
        return {self.department.get(name, "")} | {d for _, d in self.unknown.get(name, set())}


def provisioner(shared: Shared, token: str, churn: Churn) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}
    ids: dict[str, str] = {}
    n = 0
    with httpx.Client(timeout=30) as client:
        while not shared.stop.is_set():
            n += 1
            name = f"churn{n}@abc.example"
            body = {"schemas": [CORE_USER], "userName": name}
            created = shared.call(
                "scim create",
                lambda base, body=body: client.post(
                    f"{base}/scim/v2/abc/Users", json=body, headers=headers
                ),
            )
            if created is not None and created.status_code == 201:
                churn.created.add(name)
                ids[name] = created.json()["id"]
            for moved, uid in list(ids.items())[-3:]:
                department = DEPARTMENTS[n % len(DEPARTMENTS)] or "Ops"
                patch = {
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": department}
                    ],
                }
                answer, maybe_reached = shared.attempt(
                    "scim patch",
                    lambda base, uid=uid, patch=patch: client.patch(
                        f"{base}/scim/v2/abc/Users/{uid}", json=patch, headers=headers
                    ),
                )
                if answer is not None and answer.status_code == 200:
                    churn.acknowledged(moved, department)
                elif maybe_reached:
                    churn.sent_without_answer(moved, department)


def admin(shared: Shared, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as client:
        while not shared.stop.is_set():
            shared.call(
                "apply",
                lambda base: client.post(f"{base}/v1/tenants/abc/applications", headers=headers),
            )
            shared.stop.wait(0.7)


def load_phase(churn: Churn, at_least: int) -> None:
    """Let the clients run for ``PHASE`` seconds and until ``at_least`` users exist."""
    started = time.monotonic()
    while time.monotonic() - started < PHASE_LIMIT:
        if time.monotonic() - started >= PHASE and len(churn.created) >= at_least:
            return
        time.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_kill_and_restart_under_load_loses_no_acknowledged_change(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'load.db'}"
    services = build(db_url)
    tokens = make_tokens(services, ["abc"])
    seed_for_fuzzing(services, "abc")
    services.store.dispose()

    process, base = start_server(db_url, tmp_path / "first.log")
    shared, churn = Shared(base), Churn()
    threads = [
        threading.Thread(target=enforcer, args=(shared, tokens[("abc", "enforcer")])),
        threading.Thread(target=enforcer, args=(shared, tokens[("abc", "enforcer")])),
        threading.Thread(target=provisioner, args=(shared, tokens[("abc", "provisioner")], churn)),
        threading.Thread(target=admin, args=(shared, tokens[("abc", "admin")])),
    ]
    restarted = None
    try:
        for thread in threads:
            thread.start()
        load_phase(churn, 2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        before_kill = len(churn.created)
        churn.generation = 1
        restarted, shared.base = start_server(db_url, tmp_path / "second.log")
        load_phase(churn, before_kill + 2)
    finally:
        shared.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if process.poll() is None:
            stop_server(process)
        if restarted is not None:
            stop_server(restarted)

    decisions = len(shared.latencies)
    p50, p99 = percentile(shared.latencies, 0.5), percentile(shared.latencies, 0.99)
    print(
        f"\nload and fault: {decisions} decision batches of 31 checks, p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms; {len(churn.created)} SCIM users created "
        f"({before_kill} before the kill); {shared.unavailable} requests found the server down"
    )
    server_errors = [s for s in shared.statuses if s[1] >= 500 and s[1] != 503]
    assert server_errors == []
    assert decisions > 0
    assert len(churn.created) > before_kill > 0  # churn went on both sides of the kill

    after = build(db_url)
    try:
        directory = after.directory.directory("abc")
        for name in churn.created:
            user = directory.find_upn(name)
            assert user is not None, f"acknowledged user {name} was lost"
            held = user.attributes.get("Department", "")
            assert held in churn.possible(name), (name, held, churn.department.get(name))
    finally:
        after.store.dispose()
