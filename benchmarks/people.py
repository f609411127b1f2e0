"""A person's page, a segment's members, explain and the vendor proposal at scale (§12).

One generated tenant (100k users and 500 segments by default), seeded in bulk and applied
(as ``benchmarks.server`` does), then each route the web page calls is timed through the
app in-process (``fastapi.testclient``: routing, the service, JSON encoding; no socket),
with the existing ``GET /user-lookup`` and ``GET /explain`` as the baseline in the same
rounds. Rounds alternate over every route so that all see the same machine load; the
median round of each is reported, with its ratio to the baseline.

    .venv/bin/python -m benchmarks.people [--users 100000] [--segments 500] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi.testclient import TestClient

from benchmarks.generate import TenantSpec, generate
from benchmarks.server import ACTOR, TENANT, seed
from infobarrier.http.app import create_app
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build


def main() -> None:
    """Seed, apply, time every route, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    tenant = generate(TenantSpec(args.users, args.segments))
    with tempfile.TemporaryDirectory() as work:
        services = build(f"sqlite:///{Path(work) / 'people.db'}")
        started = time.perf_counter()
        seed(services, tenant)
        services.applications.apply(TENANT, ACTOR)
        seeded = time.perf_counter() - started
        token = services.tokens.create(TENANT, Role.ADMIN, ACTOR, "bench")[1]
        epoch = services.decisions.current(TENANT).epoch
        rng = np.random.default_rng(7)
        segmented = [i for i in range(len(epoch)) if epoch.segments_of(i)][:5000]
        person = epoch.upns[int(rng.choice(segmented))]
        recipients = [epoch.upns[int(i)] for i in rng.choice(segmented, size=10)]
        recipients = [r for r in recipients if r != person]
        segment = epoch.segment_names[int(np.argmax(epoch.segment_counts()))]
        engineer = next(u for u in tenant.users if u.kind.value == "person").upn
        base = f"/v1/tenants/{TENANT}"
        with TestClient(create_app(services)) as client:
            client.headers["Authorization"] = f"Bearer {token}"

            def get(path: str, **params: Any) -> Callable[[], httpx.Response]:
                return lambda: client.get(base + path, params=params)

            def post(path: str, body: dict[str, Any]) -> Callable[[], httpx.Response]:
                return lambda: client.post(base + path, json=body)

            vendor = {
                "vendor": "VBench",
                "accounts": [{"upn": "vbench-ra1@bench.example"}],
                "engineers": [engineer],
            }
            routes: dict[str, Callable[[], httpx.Response]] = {
                "baseline: GET /user-lookup": get("/user-lookup", q=person[:3], limit=8),
                "baseline: GET /explain": get(
                    "/explain", action="chat", **{"from": person, "to": recipients[0]}
                ),
                "GET /people/{upn}": get(f"/people/{person}"),
                "GET /people/{upn}/reach": get(f"/people/{person}/reach", limit=25),
                "GET /segments/{name}/members": get(f"/segments/{segment}/members", limit=50),
                "POST /explain (10 recipients, group-chat)": post(
                    "/explain", {"action": "group-chat", "from": person, "to": recipients}
                ),
                "POST /explain (add-team-member)": post(
                    "/explain", {"action": "add-team-member", "from": person, "to": recipients}
                ),
                "POST /vendor-onboarding/proposal": post("/vendor-onboarding/proposal", vendor),
            }
            first: dict[str, float] = {}
            for name, call in routes.items():  # the first read may load the epoch in force
                t = time.perf_counter()
                response = call()
                first[name] = (time.perf_counter() - t) * 1000
                assert response.status_code == 200, response.text
            times: dict[str, list[float]] = {name: [] for name in routes}
            for _ in range(args.rounds):
                for name, call in routes.items():
                    t = time.perf_counter()
                    response = call()
                    times[name].append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200, response.text
            t = time.perf_counter()
            response = post("/vendor-onboarding/what-if", vendor)()
            what_if_ms = (time.perf_counter() - t) * 1000
            assert response.status_code == 200, response.text
    baseline = statistics.median(times["baseline: GET /explain"])
    print(
        json.dumps(
            {
                "users": args.users,
                "segments": args.segments,
                "seed_and_apply_s": round(seeded, 1),
                "load_average": os.getloadavg(),
                "median_ms": {k: round(statistics.median(v), 1) for k, v in times.items()},
                "ratio_to_baseline_explain": {
                    k: round(statistics.median(v) / baseline, 2) for k, v in times.items()
                },
                "first_call_ms": {k: round(v, 1) for k, v in first.items()},
                "vendor_what_if_ms_once": round(what_if_ms),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
