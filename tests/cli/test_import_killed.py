"""A ``users import`` killed with SIGKILL while it writes leaves the directory as it was.

The import writes every row in one transaction with set-based statements (``store.bulk``:
``executemany``, ``COPY`` on PostgreSQL): killed midway, none of its rows are kept, and the
same import then succeeds in full. A real ``infobarrier users import`` runs as a
subprocess; the test watches the database from outside until the import's write
transaction is open, kills the process, and counts the rows.

* SQLite: the transaction is open while another connection cannot take the write lock
  (``BEGIN IMMEDIATE`` refused); the process is killed well inside it.
* PostgreSQL: the import's backend holds a ``RowExclusiveLock`` on ``users`` (it has
  begun writing users, by ``COPY``); the process is killed at once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from pg_cluster import Cluster

TENANT = "bulk"
USERS = 60_000
GROUPS = 20
KILL = signal.SIGKILL
CLI = (sys.executable, "-m", "infobarrier.cli.main")


def write_files(folder: Path) -> tuple[Path, Path]:
    """A groups CSV and a users CSV of :data:`USERS` users in two groups each."""
    groups = folder / "groups.csv"
    groups.write_text(
        "groupDisplayName,groupMail\n"
        + "".join(f"Group {g},group{g}@bulk.example\n" for g in range(GROUPS)),
        encoding="utf-8",
    )
    users = folder / "users.csv"
    with users.open("w", encoding="utf-8") as f:
        f.write("userPrincipalName,id,displayName,department,MemberOf\n")
        for i in range(USERS):
            f.write(
                f"user{i}@bulk.example,{uuid.UUID(int=i + 1)},User {i},Dept {i % 50},"
                f"Group {i % GROUPS};Group {(i * 7 + 3) % GROUPS}\n"
            )
    return groups, users


def run(db_url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBARRIER_")}
    done = subprocess.run(
        [sys.executable, "-m", "infobarrier.cli.main", "--db", db_url, "--tenant", TENANT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def kill_import_when(db_url: str, users: Path, writing: Callable[[], bool], delay: float) -> None:
    """Start ``users import``, wait until ``writing()``, wait ``delay``, check it still
    writes, and kill it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBARRIER_")}
    proc = subprocess.Popen(
        [*CLI, "--db", db_url, "--tenant", TENANT, "users", "import", str(users)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            if writing():
                seen = True
                break
            time.sleep(0.005)
        assert seen, (
            f"the import ended (exit {proc.returncode}) before its transaction was seen: "
            f"{proc.stderr.read().decode() if proc.stderr else ''}"
        )
        time.sleep(delay)
        assert writing(), "the import's transaction ended before it could be killed"
        os.kill(proc.pid, KILL)
        assert proc.wait(timeout=10) == -KILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def sqlite_locked(path: Path, held: float = 0.3) -> Callable[[], bool]:
    """True once another connection has been refused the write lock for ``held`` seconds
    on end (short write transactions before the import's own one are not it)."""
    since: list[float] = []

    def locked() -> bool:
        db = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            if not since:
                since.append(time.monotonic())
            return time.monotonic() - since[0] >= held
        else:
            db.execute("ROLLBACK")
            since.clear()
            return False
        finally:
            db.close()

    return locked


def sqlite_users(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        (count,) = db.execute("SELECT COUNT(*) FROM users").fetchone()
        (members,) = db.execute("SELECT COUNT(*) FROM memberships").fetchone()
    finally:
        db.close()
    return int(count) + int(members)


def test_killed_import_keeps_nothing_on_sqlite(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'import.db'}"
    path = tmp_path / "import.db"
    groups, users = write_files(tmp_path)
    run(db_url, "tenants", "create", TENANT)
    run(db_url, "groups", "import", str(groups))
    before = sqlite_users(path)
    assert before == 0

    kill_import_when(db_url, users, sqlite_locked(path), delay=0.0)

    assert sqlite_users(path) == 0, "a killed import left rows behind"
    out = run(db_url, "users", "import", str(users))
    assert f"{USERS} users created" in out
    assert sqlite_users(path) == USERS + 2 * USERS - _same_group_rows()


def _same_group_rows() -> int:
    """Users whose two groups are one group (one membership row, not two)."""
    return sum(1 for i in range(USERS) if i % GROUPS == (i * 7 + 3) % GROUPS)


def test_killed_import_keeps_nothing_on_postgresql(pg_cluster: Cluster, tmp_path: Path) -> None:
    db_url = pg_cluster.database()
    url = make_url(db_url)
    groups, users = write_files(tmp_path)
    run(db_url, "tenants", "create", TENANT)
    run(db_url, "groups", "import", str(groups))
    connect = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
        "autocommit": True,
    }

    def count() -> int:
        with psycopg.connect(**connect) as conn:  # type: ignore[arg-type]
            users_n = conn.execute("SELECT COUNT(*) FROM users").fetchone()
            members_n = conn.execute("SELECT COUNT(*) FROM memberships").fetchone()
        assert users_n is not None
        assert members_n is not None
        return int(users_n[0]) + int(members_n[0])

    def writing_users() -> bool:
        with psycopg.connect(**connect) as conn:  # type: ignore[arg-type]
            row = conn.execute(
                "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'users' AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid()"
            ).fetchone()
        return row is not None and int(row[0]) > 0

    assert count() == 0
    kill_import_when(db_url, users, writing_users, delay=0.05)
    deadline = time.monotonic() + 30
    while writing_users() and time.monotonic() < deadline:  # the server notices the drop
        time.sleep(0.05)
    assert count() == 0, "a killed import left rows behind"
    out = run(db_url, "users", "import", str(users))
    assert f"{USERS} users created" in out
    assert count() == USERS + 2 * USERS - _same_group_rows()
