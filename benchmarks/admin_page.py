"""One user's license changes and the directory's search over HTTP, two servers side by side.

Both servers serve copies of the same database (for instance the tenant ``make bench-web``
seeds, 100,000 users): ``--baseline`` one revision, ``--branch`` another. Each operation
runs in turn on each server, ``--users`` times (each on another user), and the medians are
compared. The SKU ``SPE_E5`` gets 100 seats on both first.

    .venv/bin/python -m benchmarks.admin_page --baseline http://127.0.0.1:9603 \\
        --branch http://127.0.0.1:9602 --tenant bench --token-file TOKEN
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--baseline", required=True, help="base URL of the baseline server")
    parser.add_argument("--branch", required=True, help="base URL of the server measured")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--token-file", type=Path, required=True, help="an admin token")
    parser.add_argument("--users", type=int, default=3)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token_file.read_text().strip()}"}
    servers = {"baseline": args.baseline, "branch": args.branch}
    clients = {
        name: httpx.Client(base_url=f"{url}/v1/tenants/{args.tenant}", headers=headers, timeout=600)
        for name, url in servers.items()
    }
    page = clients["branch"].get("/directory/users", params={"limit": args.users, "offset": 1000})
    upns = [u["upn"] for u in page.json()["items"]]
    for client in clients.values():
        client.put("/skus/SPE_E5", json={"seats": 100}).raise_for_status()
    times: dict[str, dict[str, list[float]]] = {name: {} for name in servers}

    def timed(name: str, who: str, call: Callable[[], httpx.Response]) -> None:
        start = time.perf_counter()
        call().raise_for_status()
        times[who].setdefault(name, []).append(time.perf_counter() - start)

    for upn in upns:
        for who, c in clients.items():
            calls: dict[str, Callable[[], httpx.Response]] = {
                "GET a user's licenses": lambda c=c, u=upn: c.get(f"/users/{u}/licenses"),
                "assign one license": lambda c=c, u=upn: c.post(
                    f"/users/{u}/licenses", json={"sku": "SPE_E5"}
                ),
                "remove one license": lambda c=c, u=upn: c.delete(f"/users/{u}/licenses/SPE_E5"),
            }
            for name, call in calls.items():
                timed(name, who, call)
    print(f"load average {os.getloadavg()}")
    for name in times["branch"]:
        base = statistics.median(times["baseline"][name])
        new = statistics.median(times["branch"][name])
        print(f"{name:24s} baseline {base:8.3f} s  branch {new:8.3f} s  x{base / new:,.0f}")


if __name__ == "__main__":
    main()
