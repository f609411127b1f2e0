"""An apply killed with SIGKILL half-way leaves the previous epoch in force (semantics §5).

A real ``infobarrier apply`` runs as a subprocess against a SQLite file. To give it work
that takes a couple of seconds without any hook in ``src/``, the test adds (directly
through the store) a few dozen segments whose filters are long ``-or`` chains of ``-like``
patterns, over a directory of some hundred distinct departments; the epoch in force
(policy P1) is small. The test
polls the database until the application row is ``InProgress``, kills the process, and
checks: decisions still follow the old epoch, ``status --all`` reports the application as
``Failed`` (interrupted), and a new ``apply`` succeeds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from infobarrier.core.barriers import Segment
from infobarrier.core.directory import make_user, new_id
from infobarrier.core.filters.parser import parse_filter
from infobarrier.store.database import Store

TENANT = "big"
FILLER_USERS = 400
HEAVY_SEGMENTS = 40
TERMS = 160

# POSIX only, like the rest of the suite: no skip (a missing SIGKILL fails, saying so).
KILL = signal.SIGKILL


def heavy_filter(k: int) -> str:
    return " -or ".join(f"Department -like '*dept-{k:05d}-{j}*'" for j in range(TERMS))


def add_heavy_definitions(db_url: str) -> None:
    """Filler users and many (slow to evaluate) segments, straight into the store."""
    store = Store(db_url)
    try:
        with store.transaction() as repo:
            tenant = repo.tenants.get(TENANT)
            repo.scope(tenant).directory.save_users(
                [
                    make_user(f"filler{i}@big.example", Department=f"Filler {i:05d}")
                    for i in range(FILLER_USERS)
                ],
            )
            config = repo.scope(tenant).barriers.load()
            extra = tuple(
                Segment(new_id(), f"Heavy {k}", heavy_filter(k), parse_filter(heavy_filter(k)))
                for k in range(HEAVY_SEGMENTS)
            )
            repo.scope(tenant).barriers.save(replace(config, segments=(*config.segments, *extra)))
    finally:
        store.dispose()


def latest_application(path: Path) -> tuple[int, str] | None:
    """(number, status) of the newest application, read with plain sqlite3."""
    try:
        with sqlite3.connect(path, timeout=0.2) as db:
            row = db.execute(
                "SELECT seq, status FROM applications ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        db.close()
    except sqlite3.OperationalError:  # locked for a moment
        return None
    return (int(row[0]), str(row[1])) if row else None


def epochs(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM epochs").fetchone()
    db.close()
    return int(count)


def test_killed_apply_leaves_previous_epoch_in_force(cli: Any, db_url: str, tmp_path: Path) -> None:
    path = Path(db_url.removeprefix("sqlite:///"))
    cli.ok("tenants", "create", TENANT)
    cli.tenant = TENANT
    users = tmp_path / "users.csv"
    users.write_text(
        "userPrincipalName,department\na1@big.example,A\nb1@big.example,B\n", encoding="utf-8"
    )
    cli.ok("users", "import", str(users))
    cli.ok("segments", "new", "A", "--filter", "Department -eq 'A'")
    cli.ok("segments", "new", "B", "--filter", "Department -eq 'B'")
    cli.ok("policies", "new", "P1", "--segment", "A", "--blocked", "B", "--state", "Active")
    cli.ok("apply")
    assert cli("check", "--action", "chat", "a1@big.example", "b1@big.example").code == 1

    # New definitions: P1 lifted, and the slow segments added.
    cli.ok("policies", "set", "P1", "--state", "Inactive")
    add_heavy_definitions(db_url)

    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBARRIER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infobarrier.cli.main", "--db", db_url, "--tenant", TENANT, "apply"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        seen = None
        while time.monotonic() < deadline and proc.poll() is None:
            seen = latest_application(path)
            if seen == (2, "InProgress"):
                break
            time.sleep(0.01)
        assert proc.poll() is None, (
            f"apply ended (exit {proc.returncode}) before it could be killed: "
            f"{proc.stderr.read().decode() if proc.stderr else ''}"
        )
        assert seen == (2, "InProgress"), f"the application never showed InProgress: {seen}"
        time.sleep(0.3)  # well inside the compilation
        os.kill(proc.pid, KILL)
        assert proc.wait(timeout=10) == -KILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()

    # Killed half-way: the record is still InProgress and no epoch was produced.
    assert latest_application(path) == (2, "InProgress")
    assert epochs(path) == 1

    # Decisions still follow the old epoch (P1 Active: A blocks B).
    result = cli("check", "--action", "chat", "a1@big.example", "b1@big.example", "--json")
    assert result.code == 1
    assert json.loads(result.out)["policy"] == "P1"
    assert json.loads(cli.ok("recipient", "a1@big.example", "--json"))["epoch"] == 1

    # A readable status: the interrupted application is reported Failed.
    out = cli.ok("status", "--all")
    assert "application 2 [Failed]" in out
    assert "interrupted" in out
    assert "application 1 [Completed]" in out
    history = json.loads(cli.ok("status", "--all", "--json"))
    assert [(a["number"], a["status"]) for a in history] == [(2, "Failed"), (1, "Completed")]
    assert "interrupted" in history[0]["error"]
    assert history[0]["ended"] is not None
    assert "application 2 [Failed]" in cli.ok("status")

    # A new apply succeeds, and then the new definitions are in force.
    app = json.loads(cli.ok("apply", "--json"))
    assert app["number"] == 3
    assert app["status"] == "Completed"
    assert cli("check", "--action", "chat", "a1@big.example", "b1@big.example").code == 0
    assert epochs(path) == 2
