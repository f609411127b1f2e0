"""HTTP load generator: a separate process that drives a running ``infobarrier serve``.

Run by ``benchmarks.server`` (loopback only, bounded in time)::

    python -m benchmarks.load --base http://127.0.0.1:PORT --tenant T --token TOKEN \
        --pairs pairs.txt --kind single|batch [--batch 1000] [--seconds 8] [--threads 2]

``single``: ``GET /v1/tenants/T/relationship?a=&b=`` one pair per request; ``batch``:
``POST /v1/tenants/T/decisions`` with ``--batch`` ``chat`` checks per request;
``evaluations``: the same pairs as ``POST /access/v1/evaluations`` (AuthZEN: ``chat`` the
top-level action, each item a subject and a resource user), ``--batch`` items a request. Each thread
keeps one HTTP/1.1 connection (``http.client``, keep-alive) and sends requests back to
back for ``--seconds``; every response must be 200 (a batch: with one result per check).
Prints one JSON object: requests, decisions, errors, elapsed seconds, throughput and the
latency percentiles of the requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.load``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--base", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--pairs", required=True, help="file of 'upn upn' lines")
    parser.add_argument("--kind", choices=("single", "batch", "evaluations"), required=True)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--connection",
        choices=("keep-alive", "per-request"),
        default="keep-alive",
        help="per-request: a new connection for every request, so that the kernel hands "
        "each one to whichever server worker is free (a kept-alive connection stays with "
        "the worker that accepted it)",
    )
    args = parser.parse_args(argv)
    url = urllib.parse.urlsplit(args.base)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only")
    with open(args.pairs, encoding="utf-8") as handle:
        pairs = [tuple(line.split()) for line in handle if line.strip()]
    headers = {"Authorization": f"Bearer {args.token}"}
    prefix = f"/v1/tenants/{args.tenant}"
    bodies: list[bytes] = []
    if args.kind == "batch":
        for start in range(0, len(pairs) - args.batch + 1, args.batch):
            checks = [
                {"action": "chat", "from": a, "to": [b]}
                for a, b in pairs[start : start + args.batch]
            ]
            bodies.append(json.dumps({"checks": checks}).encode())
        headers["Content-Type"] = "application/json"
    if args.kind == "evaluations":
        for start in range(0, len(pairs) - args.batch + 1, args.batch):
            items = [
                {"subject": {"type": "user", "id": a}, "resource": {"type": "user", "id": b}}
                for a, b in pairs[start : start + args.batch]
            ]
            body = {"action": {"name": "chat"}, "evaluations": items}
            bodies.append(json.dumps(body).encode())
        headers["Content-Type"] = "application/json"
    path = f"{prefix}/decisions" if args.kind == "batch" else "/access/v1/evaluations"
    answers = "results" if args.kind == "batch" else "evaluations"
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    errors = [0] * args.threads
    deadline = time.monotonic() + args.seconds
    start_gate = threading.Barrier(args.threads)

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        mine = latencies[k]
        i = k
        start_gate.wait()
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                if args.kind == "single":
                    a, b = pairs[i % len(pairs)]
                    query = urllib.parse.urlencode({"a": a, "b": b})
                    conn.request("GET", f"{prefix}/relationship?{query}", headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    ok = response.status == 200 and b'"allowed"' in data
                else:
                    conn.request("POST", path, body=bodies[i % len(bodies)], headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    ok = response.status == 200
                    if ok and i < args.threads * 3:  # check a few answers in full
                        ok = len(json.loads(data)[answers]) == args.batch
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            if args.connection == "per-request":
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            mine.append(time.perf_counter() - t0)
            if not ok:
                errors[k] += 1
            i += args.threads
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.threads)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    every = sorted(x for xs in latencies for x in xs)
    requests = len(every)
    per_request = 1 if args.kind == "single" else args.batch
    result: dict[str, Any] = {
        "kind": args.kind,
        "threads": args.threads,
        "connection": args.connection,
        "batch": per_request,
        "requests": requests,
        "decisions": requests * per_request,
        "errors": sum(errors),
        "elapsed_s": elapsed,
        "requests_per_s": requests / elapsed,
        "decisions_per_s": requests * per_request / elapsed,
        "p50_ms": _percentile(every, 0.50) * 1e3,
        "p99_ms": _percentile(every, 0.99) * 1e3,
        "max_ms": (every[-1] * 1e3) if every else float("nan"),
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
