"""The Synapse module's cost: a homeserver with the module off and one with it on, in one run.

Two real homeservers (SQLite, loopback) start side by side: one without modules, one with
``infobarrier_synapse`` deciding in-process from a store holding the seed's Company ABC.
On each, V1's Remote Assist account sends messages to V1's engineer in their direct chat,
and invites V1's engineer into a room (who declines, so the next invite is a new one).
The two homeservers are measured in turn, request by request, so load on the machine falls
on both alike; besides each p50, the median of the paired differences (on minus off) is
reported. Then the in-process decision a callback makes is timed on its own (the same
code the callbacks run, against the same epoch).

    python -m benchmarks.synapse_bench [--messages 400] [--invites 200] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integrations" / "synapse")]

from synapse_server import (  # noqa: E402
    SERVER_NAME,
    Homeserver,
    launch_homeserver,
    wait_until_ready,
)

from infobarrier.core.contract import Action  # noqa: E402
from infobarrier.demo import abc  # noqa: E402
from infobarrier.service.wiring import build  # noqa: E402
from infobarrier_synapse.config import parse  # noqa: E402
from infobarrier_synapse.gate import Gate  # noqa: E402

TEMPLATE = "{localpart}@abc.example"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary(samples_ms: list[float]) -> dict[str, float]:
    """p50, p99 and mean in milliseconds."""
    return {
        "n": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 3),
        "p99_ms": round(percentile(samples_ms, 99), 3),
        "mean_ms": round(statistics.fmean(samples_ms), 3),
    }


class Scene:
    """One homeserver's users and rooms for the measurements."""

    def __init__(self, hs: Homeserver) -> None:
        self.v1 = hs.client(hs.register("v1-ra1", display_name="Vendor1 Remote Assist 1"))
        self.se1a = hs.client(hs.register("se1a", display_name="Support Engineer 1A"))
        created = self.v1.dm(self.se1a.user_id)
        assert created.status_code == 200, created.text
        self.dm = str(created.json()["room_id"])
        assert self.se1a.join(self.dm).status_code == 200
        self.room = str(self.v1.create_room(name="invites").json()["room_id"])
        self.sent = 0

    def message(self) -> float:
        """Milliseconds for one message."""
        self.sent += 1
        start = time.perf_counter()
        answer = self.v1.say(self.dm, f"message {self.sent}")
        elapsed = (time.perf_counter() - start) * 1000
        assert answer.status_code == 200, answer.text
        return elapsed

    def invite(self) -> float:
        """Milliseconds for one invite (declined afterwards, outside the measurement)."""
        start = time.perf_counter()
        answer = self.v1.invite(self.room, self.se1a.user_id)
        elapsed = (time.perf_counter() - start) * 1000
        assert answer.status_code == 200, answer.text
        declined = self.se1a.http.post(f"/rooms/{self.room}/leave", json={})
        assert declined.status_code == 200, declined.text
        return elapsed


def alternate(
    scenes: dict[str, Scene], measure: Callable[[Scene], float], total: int
) -> dict[str, list[float]]:
    """``total`` samples per homeserver, taken in turn (off, on, off, on, ...): load on the
    machine then falls on both alike, and sample ``i`` of each form a pair."""
    samples: dict[str, list[float]] = {name: [] for name in scenes}
    for scene in scenes.values():  # warm-up: caches, connections, the module's first poll
        for _ in range(20):
            measure(scene)
    for _ in range(total):
        for name, scene in scenes.items():
            samples[name].append(measure(scene))
    return samples


def time_ns(call: Callable[[], object], repeat: int = 20_000) -> float:
    """Median microseconds of one call, over 7 runs of ``repeat`` calls."""
    runs = []
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in range(repeat):
            call()
        runs.append((time.perf_counter_ns() - start) / repeat / 1000)
    return round(statistics.median(runs), 2)


def decision_costs(db_url: str) -> dict[str, float]:
    """Microseconds per in-process decision, as the callbacks make them."""
    services = build(db_url)
    epoch, restricted = services.decisions.in_force(abc.TENANT)
    config = parse({"tenant": abc.TENANT, "database": db_url, "user_id_to_upn": TEMPLATE})
    gate = Gate(epoch, restricted, 1, config, SERVER_NAME)

    def mx(name: str) -> str:
        return f"@{name}:{SERVER_NAME}"

    v1, se1a, se2a = mx("v1-ra1"), mx("se1a"), mx("se2a")
    members = [mx(n) for n in ("se1a", "se1b", "alex", "blair", "casey")]
    costs = {
        "invite_allowed_us": time_ns(lambda: gate.check(Action.CHAT, v1, [se1a])),
        "invite_refused_us": time_ns(lambda: gate.check(Action.CHAT, v1, [se2a])),
        "join_5_members_us": time_ns(lambda: gate.newcomer(Action.GROUP_CHAT, se2a, members)),
        "message_2_members_us": time_ns(lambda: gate.separated([v1, se1a])),
        "message_6_members_us": time_ns(lambda: gate.separated([v1, *members])),
        "search_hidden_us": time_ns(lambda: gate.hidden(v1, se2a)),
    }
    services.store.dispose()
    return costs


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--invites", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="synapse-bench-"))
    db_url = f"sqlite:///{root / 'infobarrier.db'}"
    services = build(db_url)
    abc.load(services, "bench")
    services.store.dispose()
    module = {
        "module": "infobarrier_synapse.InformationBarrierModule",
        "config": {"tenant": abc.TENANT, "database": db_url, "user_id_to_upn": TEMPLATE},
    }
    servers = {
        "off": launch_homeserver(root / "off", []),
        "on": launch_homeserver(root / "on", [module]),
    }
    try:
        for hs in servers.values():
            wait_until_ready(hs)
        scenes = {name: Scene(hs) for name, hs in servers.items()}
        messages = alternate(scenes, Scene.message, args.messages)
        invites = alternate(scenes, Scene.invite, args.invites)
    finally:
        for hs in servers.values():
            hs.stop()
    result: dict[str, Any] = {"message": {}, "invite": {}}
    for kind, samples in (("message", messages), ("invite", invites)):
        for name in servers:
            result[kind][name] = summary(samples[name])
        off, on = result[kind]["off"]["p50_ms"], result[kind]["on"]["p50_ms"]
        result[kind]["added_p50_percent"] = round((on - off) / off * 100, 1)
        paired = [b - a for a, b in zip(samples["off"], samples["on"], strict=True)]
        result[kind]["paired_difference_p50_ms"] = round(statistics.median(paired), 3)
    result["decision"] = decision_costs(db_url)
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
