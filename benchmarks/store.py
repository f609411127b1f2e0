"""The store path through the command line, as a person runs it (``make bench-store``).

Each configuration ``USERS:SEGMENTS`` is a generated SingleSegment tenant
(``benchmarks.generate``) written out as the files a person would have: an Entra ID users
CSV (with a ``MemberOf`` column), a groups CSV naming the groups, and a PowerShell script
of the segments and policies. Then every command runs as its own ``infobarrier``
process (process start included), against a SQLite file and a database of a throwaway
PostgreSQL cluster (``tests/pg_cluster.py``)::

    tenants create, groups import, powershell import       (set-up, timed but no target)
    users import users.csv                                 (target: >= 50,000 users/s)
    apply                                                  (target: < 10 s, max RSS < 2 GB)
    check --action chat A B                                (target: < 0.5 s)
    check --batch checks.jsonl  (100,000 checks)           (target: < 2 s)
    status, matrix --format csv                            (target: < 0.5 s)
    serve: spawn to /readyz answering 200                  (target: < 3 s)
    users set A Department=...  seen by the running server (target: < 50 ms)

The small commands run three times and the median is reported. Peak memory is the
child's maximum resident set size (``wait4``). ``--baseline-src DIR`` runs the same
commands a second time with ``PYTHONPATH=DIR/src`` (another checkout), side by side in
the same run, so a loaded machine shows in both. Run from the repository root::

    python -m benchmarks.store --configs 10000:500,100000:500 [--stores sqlite,postgresql]
        [--baseline-src /path/to/other/checkout] [--seeded DIR]
        [--out benchmarks/results/store.json]

``--seeded DIR`` keeps each configuration's SQLite database as it is after the users
import and reuses it on the next run (both sides start from a copy), so that measuring
``apply`` and the readers at 1M does not import a million users each time.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.generate import DEPT, Tenant, TenantSpec, generate
from infobarrier.core.barriers import ListKind
from infobarrier.core.directory import UserType
from infobarrier.formats.powershell.export import render_script

Json = dict[str, Any]
TENANT = "bench"
CHECKS = 100_000
REPEATS = 3
#: Targets at 1M users (the requirement's); the same figures are shown for every size.
TARGETS: dict[str, float] = {
    "users_import_rate": 50_000.0,
    "apply": 10.0,
    "apply_rss_mb": 2048.0,
    "check": 0.5,
    "check_batch": 2.0,
    "status": 0.5,
    "matrix": 0.5,
    "serve_ready": 3.0,
    "change_visible_ms": 50.0,
}


# -- the files a person would have ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Files:
    """The generated input files and two users whose verdict a directory change flips."""

    users_csv: Path
    groups_csv: Path
    script: Path
    checks: Path
    one_check: tuple[str, str]
    flip: tuple[str, str, str]  # (a, b, b's department): a blocked from b until moved


def write_files(tenant: Tenant, folder: Path) -> Files:
    """Write the users CSV, groups CSV, segment script and 100k checks of ``tenant``."""
    directory = tenant.directory
    groups_csv = folder / "groups.csv"
    with groups_csv.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["groupDisplayName", "groupMail"])
        for g in directory.groups():
            out.writerow([g.display_name, g.mail])
    member_of: dict[str, list[str]] = {}
    for g in directory.groups():
        for uid in g.members:
            member_of.setdefault(uid, []).append(g.display_name)
    users_csv = folder / "users.csv"
    with users_csv.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "userPrincipalName",
                "id",
                "displayName",
                "mail",
                "accountEnabled",
                "userType",
                "department",
                "companyName",
                "extensionAttribute1",
                "usageLocation",
                "MemberOf",
            ]
        )
        for u in tenant.users:
            a = u.attributes
            out.writerow(
                [
                    u.upn,
                    u.id,
                    u.display_name,
                    u.mail,
                    "True" if u.account_enabled else "False",
                    u.user_type.value,
                    a["Department"],
                    a["Company"],
                    a["ExtensionAttribute1"],
                    a["UsageLocation"],
                    ";".join(sorted(member_of.get(u.id, ()))),
                ]
            )
    script = folder / "barriers.ps1"
    script.write_text(render_script(tenant.config, include_application=False), encoding="utf-8")
    rng = np.random.default_rng(7)
    n = len(tenant.users)
    a_ix, b_ix = rng.integers(0, n, CHECKS), rng.integers(0, n, CHECKS)
    checks = folder / "checks.jsonl"
    upns = [u.upn for u in tenant.users]
    with checks.open("w", encoding="utf-8") as f:
        for a, b in zip(a_ix.tolist(), b_ix.tolist(), strict=True):
            f.write(json.dumps({"action": "chat", "from": upns[a], "to": [upns[b]]}) + "\n")
    return Files(users_csv, groups_csv, script, checks, (upns[0], upns[1]), _flip_pair(tenant))


def _flip_pair(tenant: Tenant) -> tuple[str, str, str]:
    """Two users of department-defined segments whose policies keep them apart.

    Moving ``a`` into ``b``'s department puts it in ``b``'s segment (same segment:
    allowed), so the change is visible as a verdict that flips. Users in segment groups
    (conflicts) are avoided.
    """
    in_groups = {
        uid for g in tenant.directory.groups() if g.id.startswith("grp-") for uid in g.members
    }
    names = [s.name for s in tenant.config.segments]
    blocked: dict[str, set[str]] = {}
    for p in tenant.config.policies:
        if p.kind is ListKind.BLOCK:
            blocked.setdefault(p.segment, set()).update(p.segments)
    unit = tenant.unit.tolist()
    by_unit: dict[int, int] = {}
    for i, k in enumerate(unit):
        user = tenant.users[i]
        if (
            k >= 0
            and tenant.kinds[k] == DEPT
            and user.id not in in_groups
            and user.account_enabled
            and user.user_type is UserType.MEMBER
        ):
            by_unit.setdefault(k, i)
    for ka, ia in by_unit.items():
        for kb, ib in by_unit.items():
            if ka != kb and names[kb] in blocked.get(names[ka], set()):
                b = tenant.users[ib]
                return tenant.users[ia].upn, b.upn, b.attributes["Department"]
    raise RuntimeError("no department segment blocks another one in this tenant")


# -- running the command line -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Run:
    """One finished command: wall seconds, the child's peak RSS and its output."""

    seconds: float
    rss_mb: float
    returncode: int
    #: The child's CPU seconds (user + system): less sensitive to a loaded machine.
    cpu: float
    stdout: str
    stderr: str


#: A small process that starts every timed command and reports its ``wait4`` figures. A
#: child forked from this benchmark would report at least the benchmark's own peak RSS
#: (Linux keeps the high-water mark across ``exec``), which at 1M users is 1.4 GB.
SPAWNER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(job["argv"], stdout=out, stderr=err, env=job["env"])
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "code": os.waitstatus_to_exitcode(status),
        "maxrss": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}), flush=True)
"""


class Spawner:
    """Runs commands from :data:`SPAWNER`, started before the tenant is generated."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str], out: Path, err: Path) -> Json:
        """One command to its end: wall seconds, exit code, peak RSS (KiB), CPU seconds."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        job = {"argv": argv, "env": env, "out": str(out), "err": str(err)}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the command spawner ended")
        return dict(json.loads(line))

    def close(self) -> None:
        """End the spawner."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


#: Set by :func:`main` before generating (``None``: commands are started from here).
SPAWN: Spawner | None = None


class Cli:
    """``infobarrier --db URL --tenant bench ...`` as a subprocess (optionally another source)."""

    def __init__(self, db: str, src: Path | None, workdir: Path, repeats: int = REPEATS) -> None:
        self.db = db
        self.repeats = max(1, repeats)
        self.env = dict(os.environ)
        self.env.pop("INFOBARRIER_DB", None)
        self.env["COLUMNS"] = "200"
        if src is not None:
            self.env["PYTHONPATH"] = str(src / "src")
        self.workdir = workdir

    def argv(self, *args: str) -> list[str]:
        """The command line of one command."""
        code = "import sys; from infobarrier.cli.main import main; sys.exit(main())"
        return [sys.executable, "-c", code, "--db", self.db, "--tenant", TENANT, *args]

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> Run:
        """Run one command to its end; raise with its output if it failed."""
        out_path, err_path = self.workdir / "stdout", self.workdir / "stderr"
        if SPAWN is not None:
            done = SPAWN.run(self.argv(*args), self.env, out_path, err_path)
            seconds, code = float(done["seconds"]), int(done["code"])
            maxrss, cpu = float(done["maxrss"]), float(done["cpu"])
        else:
            with out_path.open("wb") as out, err_path.open("wb") as err:
                start = time.perf_counter()
                proc = subprocess.Popen(self.argv(*args), stdout=out, stderr=err, env=self.env)
                _pid, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            maxrss, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        if code not in ok:
            raise RuntimeError(
                f"{' '.join(args)} exited {code}:\n{stdout[-2000:]}\n{stderr[-2000:]}"
            )
        return Run(seconds, maxrss / 1024, code, cpu, stdout, stderr)

    def median(self, *args: str, ok: tuple[int, ...] = (0,)) -> Run:
        """The median of ``repeats`` runs."""
        runs = sorted(
            (self.run(*args, ok=ok) for _ in range(self.repeats)), key=lambda r: r.seconds
        )
        return runs[len(runs) // 2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(conn: http.client.HTTPConnection, path: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return response.status, json.loads(body) if body else None


def serve_and_change(cli: Cli, files: Files, port: int) -> Json:
    """Time ``serve`` to ``/readyz`` 200, then a CLI change until the server answers it."""
    token = cli.run("tokens", "create", "--tenant", TENANT, "--role", "admin").stdout
    plain = token.strip().splitlines()[-1].strip()
    argv = cli.argv("serve", "--host", "127.0.0.1", "--port", str(port))
    log = (cli.workdir / "serve.log").open("wb")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=cli.env)
    result: Json = {}
    try:
        deadline = start + 600
        status = 0
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                status, _ = _get(conn, "/readyz")
                conn.close()
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.01)
        result["serve_ready"] = time.perf_counter() - start
        a, b, department = files.flip
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        path = f"/v1/tenants/{TENANT}/relationship?a={a}&b={b}"
        code, before = _get(conn, path, plain)
        if code != 200:
            raise RuntimeError(f"relationship answered {code}: {before}")
        conn.close()
        change = cli.run("users", "set", a, f"Department={department}")
        # A new connection (the server closes idle ones after 5 s), opened before the clock.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.connect()
        seen = time.perf_counter()
        polls = 0
        while True:
            _code, now = _get(conn, path, plain)
            polls += 1
            if now["allowed"] != before["allowed"]:
                break
            if time.perf_counter() - seen > 30:
                raise RuntimeError("the change was not visible within 30 s")
        result["change_visible_ms"] = (time.perf_counter() - seen) * 1000
        result["change_cli"] = change.seconds
        result["change_polls"] = polls
        result["change_flipped"] = f"{before['allowed']} -> {now['allowed']}"
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return result


def _sqlite_files(db: str) -> list[Path]:
    """A SQLite database's file and the files beside it (its audit key)."""
    path = Path(db.removeprefix("sqlite:///"))
    return [f for f in path.parent.glob(path.name + "*") if f.is_file()]


def run_store(
    cli: Cli, files: Files, users: int, seeded: Path | None = None, import_only: bool = False
) -> Json:
    """Every command of one configuration on one database (``import_only``: the set-up and
    ``users import``, nothing after).

    ``seeded`` (SQLite only): a folder keeping the database as it is after the users
    import, per configuration; when it holds one, the set-up and the import are not run
    again (their figures are then missing from the row), when not it is filled."""
    r: Json = {}
    copied = False
    if seeded is not None and cli.db.startswith("sqlite:///"):
        target = Path(cli.db.removeprefix("sqlite:///"))
        kept = sorted(seeded.glob("seed.db*"))
        if kept:
            for f in kept:
                shutil.copyfile(f, target.parent / f.name.replace("seed.db", target.name, 1))
            copied = True
    if not copied:
        r["setup_tenant"] = cli.run("tenants", "create", TENANT).seconds
    # The floor of every command: starting the interpreter and the CLI, one small query.
    start = cli.median("tenants", "list")
    r["process_start"], r["process_start_cpu"] = start.seconds, start.cpu
    if not copied:
        r["setup_groups"] = cli.run("groups", "import", str(files.groups_csv)).seconds
        r["setup_script"] = cli.run("powershell", "import", str(files.script)).seconds
        imported = cli.run("users", "import", str(files.users_csv))
        r["users_import"] = imported.seconds
        r["users_import_rss_mb"] = imported.rss_mb
        r["users_import_rate"] = users / imported.seconds
        r["users_import_cpu"] = imported.cpu
        if seeded is not None and cli.db.startswith("sqlite:///"):
            seeded.mkdir(parents=True, exist_ok=True)
            name = Path(cli.db.removeprefix("sqlite:///")).name
            for f in _sqlite_files(cli.db):
                shutil.copyfile(f, seeded / f.name.replace(name, "seed.db", 1))
    if import_only:
        return r
    applied = cli.run("apply")
    r["apply"] = applied.seconds
    r["apply_rss_mb"] = applied.rss_mb
    r["apply_cpu"] = applied.cpu
    r["apply_output_lines"] = len(applied.stdout.splitlines())
    a, b = files.one_check
    check = cli.median("check", "--action", "chat", a, b, ok=(0, 1))
    r["check"] = check.seconds
    r["check_cpu"] = check.cpu
    r["check_rss_mb"] = check.rss_mb
    batch = cli.run("check", "--batch", str(files.checks))
    r["check_batch"] = batch.seconds
    r["check_batch_cpu"] = batch.cpu
    r["check_batch_rss_mb"] = batch.rss_mb
    r["check_batch_lines"] = len(batch.stdout.splitlines())
    status = cli.median("status")
    r["status"], r["status_cpu"] = status.seconds, status.cpu
    matrix = cli.median("matrix", "--format", "csv")
    r["matrix"], r["matrix_cpu"] = matrix.seconds, matrix.cpu
    r.update(serve_and_change(cli, files, _free_port()))
    return r


@contextlib.contextmanager
def databases(stores: Sequence[str], folder: Path) -> Iterator[dict[str, Any]]:
    """A factory of fresh database URLs per store; one PostgreSQL cluster for the run."""
    with contextlib.ExitStack() as stack:
        cluster = None
        if "postgresql" in stores:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.pg_cluster import throwaway_cluster

            cluster = stack.enter_context(throwaway_cluster())
        counter = iter(range(1_000_000))

        def fresh(store: str) -> str:
            if store == "sqlite":
                return f"sqlite:///{folder / f'bench-{next(counter)}.db'}"
            assert cluster is not None
            return cluster.database()

        yield {"fresh": fresh}


def load_average() -> str:
    """``uptime``'s load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.store``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store")
    parser.add_argument("--configs", default="10000:500,100000:500", help="USERS:SEGMENTS,...")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument(
        "--src", type=Path, default=None, help="Run this side from another checkout's src too"
    )
    parser.add_argument("--repeats", type=int, default=REPEATS, help="Runs of each small command")
    parser.add_argument(
        "--seeded",
        type=Path,
        default=None,
        help="Keep (or reuse) each configuration's SQLite database after the users import "
        "in DIR/USERS-SEGMENTS, so a rerun skips the set-up and the import",
    )
    parser.add_argument(
        "--import-only", action="store_true", help="Stop after users import (its figures only)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/store.json"))
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    configs = [tuple(int(x) for x in c.split(":")) for c in args.configs.split(",") if c.strip()]
    sides: list[tuple[str, Path | None]] = [
        ("this", args.src.resolve() if args.src is not None else None)
    ]
    if args.baseline_src is not None:
        sides.append(("baseline", args.baseline_src.resolve()))
    results: list[Json] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    global SPAWN
    SPAWN = Spawner()  # before the tenant is generated: its children's peak RSS is their own
    try:
        with databases(stores, folder) as dbs:
            for users, segments in configs:
                started = time.perf_counter()
                tenant = generate(TenantSpec(users=users, segments=segments))
                data = folder / f"data-{users}-{segments}"
                data.mkdir()
                files = write_files(tenant, data)
                print(
                    f"# {users:,} users x {segments} segments: generated in "
                    f"{time.perf_counter() - started:.1f} s "
                    f"({tenant.facts['group_memberships']:,} memberships)",
                    flush=True,
                )
                del tenant
                for store in stores:
                    for side, src in sides:
                        work = folder / f"work-{users}-{store}-{side}"
                        work.mkdir()
                        cli = Cli(dbs["fresh"](store), src, work, args.repeats)
                        load_before = load_average()
                        seeded = (
                            args.seeded / f"{users}-{segments}" if args.seeded is not None else None
                        )
                        figures = run_store(cli, files, users, seeded, args.import_only)
                        row = {
                            "users": users,
                            "segments": segments,
                            "store": store,
                            "side": side,
                            "load_before": load_before,
                            "load_after": load_average(),
                            **figures,
                        }
                        results.append(row)
                        print(json.dumps(row), flush=True)
                        shutil.rmtree(work, ignore_errors=True)
                shutil.rmtree(data, ignore_errors=True)
    finally:
        SPAWN.close()
        SPAWN = None
        shutil.rmtree(folder, ignore_errors=True)
    payload = {"machine": {"cpus": os.cpu_count()}, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print()
    print(markdown(results))
    return 0


FIGURES = (
    ("process start (tenants list)", "process_start", "s"),
    ("process start CPU", "process_start_cpu", "s"),
    ("users import", "users_import", "s"),
    ("users import CPU", "users_import_cpu", "s"),
    ("users import rate", "users_import_rate", "users/s"),
    ("apply", "apply", "s"),
    ("apply CPU", "apply_cpu", "s"),
    ("apply max RSS", "apply_rss_mb", "MB"),
    ("check (one)", "check", "s"),
    ("check (one) CPU", "check_cpu", "s"),
    ("check --batch 100k", "check_batch", "s"),
    ("check --batch CPU", "check_batch_cpu", "s"),
    ("check --batch max RSS", "check_batch_rss_mb", "MB"),
    ("status", "status", "s"),
    ("status CPU", "status_cpu", "s"),
    ("matrix", "matrix", "s"),
    ("matrix CPU", "matrix_cpu", "s"),
    ("serve ready", "serve_ready", "s"),
    ("change visible", "change_visible_ms", "ms"),
)


def markdown(results: Sequence[Json]) -> str:
    """One table per store and side: a column per size, growth between sizes, target."""
    lines: list[str] = []
    keys = sorted({(r["store"], r["side"]) for r in results})
    for store, side in keys:
        rows = sorted(
            (r for r in results if r["store"] == store and r["side"] == side),
            key=lambda r: r["users"],
        )
        sizes = [f"{r['users']:,}" for r in rows]
        lines.append(f"\n{store} ({side}); load {', '.join(r['load_before'] for r in rows)}\n")
        head = ["command", *sizes, *(f"x {a}->{b}" for a, b in itertools.pairwise(sizes)), "target"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for label, key, unit in FIGURES:
            values = [float(r.get(key, float("nan"))) for r in rows]
            cells = [_fmt(v, unit) for v in values]
            growth = [f"{b / a:.1f}" if a else "-" for a, b in itertools.pairwise(values)]
            target = TARGETS.get(key)
            goal = (
                "-"
                if target is None
                else (f">= {target:,.0f}" if "rate" in key else f"< {target:g}")
            )
            lines.append("| " + " | ".join([label, *cells, *growth, goal]) + " |")
    return "\n".join(lines)


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "-"
    if unit == "users/s":
        return f"{value:,.0f}/s"
    if unit in ("MB", "ms"):
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} s"


def median(values: Sequence[float]) -> float:
    """The median (re-exported for callers that aggregate several runs)."""
    return statistics.median(values)


if __name__ == "__main__":
    raise SystemExit(main())
