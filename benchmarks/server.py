"""infobarrier as a service: a real ``infobarrier serve`` over SQLite, under load.

Called by ``benchmarks.run`` for one generated tenant (``--server-size``, 100k users by
default). Steps, each timed:

1. *seed*: a fresh SQLite file; the tenant, its users, groups and memberships written
   through :class:`~infobarrier.store.database.Store` in one transaction with bulk
   inserts (``DirectoryRepository.save_users`` writes row by row: fine for an admin's change, far
   too slow to seed 100k users), then its segments and policies (``save_config``) and an
   apply (``ApplicationHandler.apply``: load the directory, compile, store the epoch);
2. *in-process service*: ``DirectoryHandler.update_user`` (one user's department, its own
   transaction) then ``DecisionHandler.relationship`` until the verdict flips: the
   ``EpochProvider`` catches up by patching the cached epoch (``core.patch``);
3. *server*: ``infobarrier serve`` in its own process (``tests/live_server.start_server``);
   the first decision (cold: the server loads the directory and compiles) is timed;
4. *HTTP load* from a separate process (``benchmarks.load``, loopback only, bounded in
   time): ``GET /relationship`` one pair per request, ``POST /decisions`` with 1,000
   checks per request, and the same pairs as AuthZEN ``POST /access/v1/evaluations`` with
   1,000 items per request (side by side); throughput, p50, p99;
5. *a directory change through HTTP*: ``PATCH /v1/tenants/T/users/{upn}`` (``Department``)
   then ``GET /relationship`` for a pair it flips, polled until it does; and the same
   through SCIM (``PATCH /scim/v2/T/Users/{id}``, the enterprise ``department``). The
   latency is from sending the PATCH to the first answer that reflects it; the department
   goes back and forth, ``--changes`` times each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert

from benchmarks.generate import Tenant
from infobarrier.core.directory import User
from infobarrier.core.epoch import Epoch
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import Services, build
from infobarrier.store.schema import GroupRow, MembershipRow, UserRow

Json = dict[str, Any]
TENANT = "bench"
ACTOR = "benchmark"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True, slots=True)
class Flip:
    """A department change of user ``x`` that flips ``compatible(x, y)``."""

    x: int
    y: int
    before: User
    after: User
    allowed_before: bool
    partner: str

    def users(self, k: int) -> tuple[User, bool]:
        """The user to write at the ``k``-th change (0: ``after``) and the verdict it gives."""
        if k % 2 == 0:
            return self.after, not self.allowed_before
        return self.before, self.allowed_before


def find_flip(tenant: Tenant, epoch: Epoch, rng: np.random.Generator) -> Flip:
    """A user in a ``Department -eq`` segment, another such segment, and a partner whose
    verdict with the user differs between the two."""
    kinds = tenant.kinds
    dept_segments = [
        k
        for k, seg in enumerate(epoch.config.segments)
        if kinds[k] == "dept" and seg.filter.startswith("Department -eq")
    ]
    usable_profiles = np.unique(epoch.profile_of[epoch.usable])
    compat = epoch.compat
    order = rng.permutation(len(dept_segments)).tolist()
    for ia in order:
        a = dept_segments[ia]
        members = np.flatnonzero((epoch.profile_of == a + 1) & epoch.usable)
        if len(members) == 0:
            continue
        for ib in order:
            b = dept_segments[ib]
            if b == a:
                continue
            differs = usable_profiles[
                compat[a + 1, usable_profiles] != compat[b + 1, usable_profiles]
            ]
            if len(differs) == 0:
                continue
            q = int(differs[0])
            partners = np.flatnonzero((epoch.profile_of == q) & epoch.usable)
            x = int(members[0])
            y = int(partners[0]) if int(partners[0]) != x else int(partners[-1])
            if y == x:
                continue
            before = tenant.users[x]
            after = replace(before, attributes={**before.attributes, "Department": f"Dept {b:04d}"})
            return Flip(x, y, before, after, bool(compat[a + 1, q]), tenant.users[y].upn)
    raise RuntimeError("no department change flips a verdict in this tenant")


def _percentiles(values_ms: Sequence[float]) -> Json:
    ordered = sorted(values_ms)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": float(np.percentile(ordered, 50)),
        "p99_ms": float(np.percentile(ordered, 99)),
        "max_ms": ordered[-1],
        "mean_ms": float(np.mean(ordered)),
    }


# -- seeding ----------------------------------------------------------------------------
def seed(services: Services, tenant: Tenant) -> None:
    """The tenant's directory in bulk, then its configuration; nothing applied yet."""
    services.tenants.create(TENANT, tenant.config.mode, ACTOR)
    with services.store.transaction() as repo:
        stored = repo.tenants.get(TENANT)
        session = repo.session
        chunk = 20_000
        users = tenant.users
        for start in range(0, len(users), chunk):
            session.execute(
                insert(UserRow),
                [
                    {
                        "id": u.id,
                        "tenant_id": stored.id,
                        "upn": u.upn,
                        "upn_key": u.upn.casefold(),
                        "display_name": u.display_name,
                        "mail": u.mail,
                        "account_enabled": u.account_enabled,
                        "user_type": u.user_type.value,
                        "hidden": u.hidden_from_address_lists,
                        "kind": u.kind.value,
                        "sponsor_id": u.sponsor_id,
                        "attributes": dict(u.attributes),
                        "proxy_addresses": list(u.proxy_addresses),
                    }
                    for u in users[start : start + chunk]
                ],
            )
        groups = list(tenant.directory.groups())
        session.execute(
            insert(GroupRow),
            [
                {
                    "id": g.id,
                    "tenant_id": stored.id,
                    "display_name": g.display_name,
                    "name_key": g.display_name.casefold(),
                    "mail": g.mail,
                }
                for g in groups
            ],
        )
        memberships = [
            {"tenant_id": stored.id, "group_id": g.id, "user_id": uid}
            for g in groups
            for uid in g.members
        ]
        for start in range(0, len(memberships), chunk * 5):
            session.execute(insert(MembershipRow), memberships[start : start + chunk * 5])
        scoped = repo.scope(stored)
        scoped.changes.record()
        scoped.barriers.save(tenant.config)


# -- the measurements ---------------------------------------------------------------------
def in_process_changes(services: Services, flip: Flip, count: int) -> Json:
    """``update_user`` then ``relationship`` until it flips, through the service layer."""
    decisions = services.decisions
    a, b = flip.before.upn, flip.partner
    decisions.relationship(TENANT, a, b)  # warm: the epoch is cached
    latencies: list[float] = []
    for k in range(count):
        user, expected = flip.users(k)
        start = time.perf_counter()
        services.directory.update_user(
            TENANT, user.upn, ACTOR, attributes={"Department": user.attributes["Department"]}
        )
        polls = 0
        while decisions.relationship(TENANT, a, b).allowed != expected:
            polls += 1
            if time.perf_counter() - start > 30:
                raise RuntimeError("the change was not reflected within 30 s")
        latencies.append((time.perf_counter() - start) * 1e3)
    return _percentiles(latencies)


def http_changes(
    admin: httpx.Client,
    enforcer: httpx.Client,
    scim: httpx.Client,
    flip: Flip,
    count: int,
    budget_s: float = 8.0,
) -> Json:
    """A department change through ``PATCH /users/{upn}`` and through SCIM, until
    ``GET /relationship`` reflects it."""
    a, b = flip.before.upn, flip.partner
    figures: Json = {}
    for label in ("http", "scim"):
        latencies: list[float] = []
        polls_total = 0
        began = time.perf_counter()
        for k in range(count):
            if k >= 3 and time.perf_counter() - began > budget_s:
                break  # bounded: a slow path is sampled, not run `count` times
            user, expected = flip.users(k)
            dept = user.attributes["Department"]
            start = time.perf_counter()
            if label == "http":
                answer = admin.patch(
                    f"/users/{user.upn}", json={"attributes": {"Department": dept}}
                )
            else:
                body = {
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": dept}
                    ],
                }
                answer = scim.patch(f"/Users/{user.id}", json=body)
            if answer.status_code != 200:
                raise RuntimeError(f"{label} PATCH: {answer.status_code} {answer.text[:300]}")
            while True:
                seen = enforcer.get("/relationship", params={"a": a, "b": b})
                if seen.status_code != 200:
                    raise RuntimeError(f"relationship: {seen.status_code} {seen.text[:300]}")
                if seen.json()["allowed"] == expected:
                    break
                polls_total += 1
                if time.perf_counter() - start > 30:
                    raise RuntimeError(f"{label}: the change was not reflected within 30 s")
            latencies.append((time.perf_counter() - start) * 1e3)
        figures[label] = {**_percentiles(latencies), "extra_polls": polls_total}
    return figures


def run_load(
    base: str,
    token: str,
    pairs_file: Path,
    kind: str,
    seconds: float,
    threads: int,
    connection: str = "keep-alive",
) -> Json:
    """``benchmarks.load`` in its own process."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.load",
        "--base",
        base,
        "--tenant",
        TENANT,
        "--token",
        token,
        "--pairs",
        str(pairs_file),
        "--kind",
        kind,
        "--seconds",
        str(seconds),
        "--threads",
        str(threads),
        "--connection",
        connection,
    ]
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, cwd=root, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def warm_up(base: str, headers: dict[str, str], flip: Flip, limit_s: float = 120.0) -> float:
    """Until every worker has its epoch: rounds of 8 concurrent decisions, each on a new
    connection (any worker may take it), until a whole round answers within 0.5 s."""
    url = f"{base}/v1/tenants/{TENANT}/relationship"
    params = {"a": flip.before.upn, "b": flip.partner}

    def one(_: int) -> float:
        began = time.perf_counter()
        httpx.get(url, params=params, headers=headers, timeout=limit_s).raise_for_status()
        return time.perf_counter() - began

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        while time.perf_counter() - start < limit_s:
            if max(pool.map(one, range(8))) < 0.5:
                break
    return time.perf_counter() - start


def run(
    tenant: Tenant,
    epoch: Epoch,
    *,
    seconds: float = 8.0,
    changes: int = 20,
    threads: int = 2,
    workers: Sequence[int] = (1, 2),
    workdir: Path | None = None,
) -> Json:
    """Every step of the module docstring; returns the figures.

    The server runs once per entry of ``workers`` (``serve --workers N``), each warmed
    up before its load; the directory changes go through the last one.
    """
    from live_server import start_server, stop_server  # tests/ is on sys.path (benchmarks/__init__)

    rng = np.random.default_rng(7)
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="ib-bench-")) if workdir is None else workdir
    db_url = f"sqlite:///{work / 'bench.db'}"
    figures: Json = {"users": len(tenant.users), "db": "sqlite", "mode": epoch.mode.value}
    process: subprocess.Popen[bytes] | None = None
    try:
        start = time.perf_counter()
        services = build(db_url)
        seed(services, tenant)
        figures["seed_s"] = time.perf_counter() - start
        start = time.perf_counter()
        services.applications.apply(TENANT, ACTOR)
        figures["apply_s"] = time.perf_counter() - start
        tokens = {
            role: services.tokens.create(TENANT, role, ACTOR, "bench")[1]
            for role in (Role.ADMIN, Role.ENFORCER, Role.PROVISIONER)
        }
        flip = find_flip(tenant, epoch, rng)
        start = time.perf_counter()
        services.decisions.relationship(TENANT, flip.before.upn, flip.partner)
        figures["first_decision_after_apply_s"] = time.perf_counter() - start
        figures["change_in_process"] = in_process_changes(services, flip, changes)
        services.store.dispose()

        n = len(tenant.users)
        us = rng.integers(0, n, size=50_000).tolist()
        vs = rng.integers(0, n, size=50_000).tolist()
        pairs_file = work / "pairs.txt"
        pairs_file.write_text(
            "".join(
                f"{tenant.users[u].upn} {tenant.users[v].upn}\n"
                for u, v in zip(us, vs, strict=True)
                if u != v
            )
        )
        headers = {name: {"Authorization": f"Bearer {tok}"} for name, tok in tokens.items()}
        figures["workers"] = {}
        for count in workers:
            process, base = start_server(
                db_url, work / f"server-{count}.log", workers=count, timeout=180
            )
            enforcer = httpx.Client(
                base_url=f"{base}/v1/tenants/{TENANT}", headers=headers[Role.ENFORCER], timeout=120
            )
            start = time.perf_counter()
            answer = enforcer.get("/relationship", params={"a": flip.before.upn, "b": flip.partner})
            cold = time.perf_counter() - start
            if answer.status_code != 200:
                raise RuntimeError(f"relationship: {answer.status_code} {answer.text[:300]}")
            warm = warm_up(base, headers[Role.ENFORCER], flip)
            mine: Json = {"cold_first_decision_s": cold, "warm_up_s": warm}
            # A kept-alive connection stays with the worker that accepted it: with several
            # workers, each request gets a new one (as a load balancer spreads requests).
            connection = "keep-alive" if count == 1 else "per-request"
            mine["load_single"] = run_load(
                base, tokens[Role.ENFORCER], pairs_file, "single", seconds, threads, connection
            )
            mine["load_batch"] = run_load(
                base, tokens[Role.ENFORCER], pairs_file, "batch", seconds, threads, connection
            )
            mine["load_evaluations"] = run_load(
                base, tokens[Role.ENFORCER], pairs_file, "evaluations", seconds, threads, connection
            )
            figures["workers"][str(count)] = mine
            if count == workers[-1]:  # the last configuration also takes the changes
                admin = httpx.Client(
                    base_url=f"{base}/v1/tenants/{TENANT}", headers=headers[Role.ADMIN], timeout=120
                )
                scim = httpx.Client(
                    base_url=f"{base}/scim/v2/{TENANT}",
                    headers=headers[Role.PROVISIONER],
                    timeout=120,
                )
                figures["change_server"] = http_changes(admin, enforcer, scim, flip, changes)
                admin.close()
                scim.close()
            enforcer.close()
            stop_server(process)
            process = None
        last = figures["workers"][str(workers[-1])]
        figures["server_workers"] = workers[-1]
        figures["server_cold_first_decision_s"] = last["cold_first_decision_s"]
        figures["load_single"] = last["load_single"]
        figures["load_batch"] = last["load_batch"]
        figures["load_evaluations"] = last["load_evaluations"]
        figures["loadavg_1min_after"] = os.getloadavg()[0]
        return figures
    finally:
        if process is not None:
            stop_server(process)
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


__all__ = ["Flip", "find_flip", "run"]
