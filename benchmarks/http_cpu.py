"""The server's CPU per decision, this checkout against a baseline, side by side.

A loaded machine stretches the wall clock of ``make bench``'s HTTP figures by several
times, in both checkouts alike but never evenly; the CPU a request costs the server moves
far less. This seeds one SQLite database (a generated tenant, as ``benchmarks.server``),
then serves it with ``infobarrier serve --workers 1`` from each checkout in turn
(``--baseline``: another checkout's ``src``; the order alternates each round) and sends
the same requests over one kept-alive connection: ``POST /decisions`` and AuthZEN ``POST
/access/v1/evaluations``, 1,000 one-pair checks each (the body of ``benchmarks.load``).
The server's user+system CPU (``/proc``) over the requests, divided by the decisions, is
the figure; the best round counts.

Each kind is warmed by its first five requests (``--warm first``, the default), so the
kind measured first (the native batch) also pays for the verdict fragments of the pairs
it meets first, which the evaluations (the same pairs) then find cached: at 5,000
segments, many profile pairs, that favours the evaluations. ``--warm all`` sends every
request once before measuring either kind, so both meet a warm cache.

    .venv/bin/python -m benchmarks.http_cpu --baseline /tmp/base/src --segments 500
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.generate import TenantSpec, generate
from benchmarks.server import ACTOR, TENANT, seed
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build

KINDS = ("batch", "evaluations")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bodies(pairs: list[tuple[str, str]], requests: int) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {kind: [] for kind in KINDS}
    for i in range(requests):
        start = (i * 1000) % (len(pairs) - 1000)
        chunk = pairs[start : start + 1000]
        checks = [{"action": "chat", "from": a, "to": [b]} for a, b in chunk]
        found["batch"].append(json.dumps({"checks": checks}).encode())
        items = [
            {"subject": {"type": "user", "id": a}, "resource": {"type": "user", "id": b}}
            for a, b in chunk
        ]
        found["evaluations"].append(
            json.dumps({"action": {"name": "chat"}, "evaluations": items}).encode()
        )
    return found


def _prepare(work: Path, users: int, segments: int) -> tuple[str, str, list[tuple[str, str]]]:
    """The database, an enforcer token and random pairs (made once per directory)."""
    db_url = f"sqlite:///{work / 'bench.db'}"
    tenant = generate(TenantSpec(users, segments))
    token_file = work / "token"
    if not token_file.exists():
        services = build(db_url)
        seed(services, tenant)
        services.applications.apply(TENANT, ACTOR)
        token_file.write_text(services.tokens.create(TENANT, Role.ENFORCER, ACTOR, "bench")[1])
        services.store.dispose()
    rng = np.random.default_rng(7)
    n = len(tenant.users)
    us, vs = rng.integers(0, n, size=50_000).tolist(), rng.integers(0, n, size=50_000).tolist()
    pairs = [(tenant.users[u].upn, tenant.users[v].upn) for u, v in zip(us, vs, strict=True)]
    return db_url, token_file.read_text(), [(a, b) for a, b in pairs if a != b]


def measure(
    db_url: str,
    token: str,
    bodies: dict[str, list[bytes]],
    src: str,
    log: Path,
    port: int,
    warm_all: bool = False,
) -> dict[str, float]:
    """Server CPU µs per decision for each kind, one server run of checkout ``src``."""
    from live_server import start_server, stop_server  # tests/ is on sys.path (benchmarks/__init__)

    os.environ["PYTHONPATH"] = src
    process, _base = start_server(db_url, log, workers=1, timeout=300, port=port)
    found: dict[str, float] = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        paths = {
            "batch": f"/v1/tenants/{TENANT}/decisions",
            "evaluations": "/access/v1/evaluations",
        }
        if warm_all:  # every pair's verdict fragments, for both kinds (the same pairs)
            for body in bodies[KINDS[0]]:
                conn.request("POST", paths[KINDS[0]], body=body, headers=headers)
                conn.getresponse().read()
        for kind in KINDS:
            for body in bodies[kind][:5]:  # warm: the verdict fragments, the token
                conn.request("POST", paths[kind], body=body, headers=headers)
                conn.getresponse().read()
            before = _cpu_seconds(process.pid)
            for body in bodies[kind]:
                conn.request("POST", paths[kind], body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{kind}: {response.status} {data[:300]!r}")
            spent = _cpu_seconds(process.pid) - before
            found[kind] = spent / (len(bodies[kind]) * 1000) * 1e6
        conn.close()
    finally:
        stop_server(process)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.http_cpu``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_cpu", description=__doc__)
    parser.add_argument("--baseline", required=True, help="the baseline checkout's src directory")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100, help="of 1,000 checks, per kind")
    parser.add_argument("--port", type=int, default=9350)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--warm",
        choices=("first", "all"),
        default="first",
        help="warm with each kind's first 5 requests, or with every request once",
    )
    args = parser.parse_args(argv)
    work = args.workdir or Path(f"/tmp/ib-http-cpu-{args.users}-{args.segments}")
    work.mkdir(parents=True, exist_ok=True)
    db_url, token, pairs = _prepare(work, args.users, args.segments)
    bodies = _bodies(pairs, args.requests)
    checkouts = {"baseline": args.baseline, "this": str(Path(__file__).parent.parent / "src")}
    rounds: dict[str, dict[str, list[float]]] = {k: {kind: [] for kind in KINDS} for k in checkouts}
    loads = [os.getloadavg()[0]]
    port = args.port
    for r in range(args.rounds):
        for label in list(checkouts) if r % 2 == 0 else list(reversed(checkouts)):
            port += 1
            got = measure(
                db_url,
                token,
                bodies,
                checkouts[label],
                work / f"{label}.log",
                port,
                warm_all=args.warm == "all",
            )
            for kind, value in got.items():
                rounds[label][kind].append(round(value, 3))
            loads.append(os.getloadavg()[0])
            print(r, label, got, f"load {loads[-1]:.1f}", file=sys.stderr, flush=True)
    best = {k: {kind: min(v) for kind, v in d.items()} for k, d in rounds.items()}
    result: dict[str, Any] = {
        "users": args.users,
        "segments": args.segments,
        "cpu_us_per_decision": rounds,
        "best": best,
        "evaluations_over_batch": {
            k: round(v["batch"] / v["evaluations"], 3) for k, v in best.items()
        },
        "warm": args.warm,
        "loadavg_1min": [min(loads), max(loads)],
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
