"""The floor under a single decision by UPN: two bare ``dict.get`` calls against
``Epoch.allowed_upn``, in one process, on one generated tenant.

A decision by UPN is two lookups of a string in a dict of every user, then one byte of the
profile table. At a million users each lookup misses the CPU caches, and what that costs
moves with the machine's moment. This measures, side by side and in alternating rounds,
an empty loop over the pairs, the two lookups alone (``upn_keys.get``), and the whole
call, so a figure of ``allowed_upn`` can be read against the floor beneath it
(benchmarks/README.md, "Idle run of 2026-12-03, 11:00-11:13 UTC")::

    .venv/bin/python -m benchmarks.upn_floor --users 1000000 --segments 500
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.generate import TenantSpec, generate
from infobarrier.core.compiler import compile_epoch


def _per_pair(body: Callable[[], None], pairs: int) -> float:
    gc.collect()
    start = time.perf_counter_ns()
    body()
    return (time.perf_counter_ns() - start) / pairs


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.upn_floor``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upn_floor", description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    tenant = generate(TenantSpec(args.users, args.segments))
    epoch = compile_epoch(tenant.directory, tenant.config)
    rng = np.random.default_rng(3)
    users = tenant.users
    a = [users[u].upn for u in rng.integers(0, args.users, args.pairs).tolist()]
    b = [users[v].upn for v in rng.integers(0, args.users, args.pairs).tolist()]
    get, decide = epoch.upn_keys.get, epoch.allowed_upn

    def empty() -> None:
        for _x, _y in zip(a, b, strict=True):
            pass

    def lookups() -> None:
        for x, y in zip(a, b, strict=True):
            get(x)
            get(y)

    def decisions() -> None:
        for x, y in zip(a, b, strict=True):
            decide(x, y)

    found: dict[str, list[float]] = {"empty_loop": [], "two_gets": [], "allowed_upn": []}
    for _ in range(args.rounds):
        found["empty_loop"].append(_per_pair(empty, args.pairs))
        found["two_gets"].append(_per_pair(lookups, args.pairs))
        found["allowed_upn"].append(_per_pair(decisions, args.pairs))
    result = {
        "users": args.users,
        "segments": args.segments,
        "ns_per_pair": {k: [round(x) for x in v] for k, v in found.items()},
        "allowed_upn_per_s": [round(1e9 / x) for x in found["allowed_upn"]],
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
