"""A throwaway PostgreSQL cluster for the tests: ``initdb`` + ``pg_ctl`` on a free port.

Set ``INFOBARRIER_TEST_PG_URL`` (``postgresql+psycopg://user@host:port/db``) to use a
server you already run instead. As root, the cluster runs as the ``postgres`` user
through ``runuser`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


def _bindir() -> Path:
    """The newest installed PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "`apt-get install -y postgresql` (`make test` does this when run as root), "
        "or set INFOBARRIER_TEST_PG_URL"
    )


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running server; ``database()`` makes a fresh database on it."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for a database of this cluster."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Start a cluster in a temporary folder; stop and delete it afterwards."""
    given = os.environ.get("INFOBARRIER_TEST_PG_URL")
    if given:
        from sqlalchemy.engine import make_url

        url = make_url(given)
        yield Cluster(url.host or "127.0.0.1", url.port or 5432, url.username or "postgres")
        return
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="infobarrier-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    log = root / "server.log"
    run = {"check": True, "capture_output": True}
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        ),
        **run,  # type: ignore[arg-type]
    )
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        **run,  # type: ignore[arg-type]
    )
    try:
        yield Cluster("127.0.0.1", port, "postgres")
    finally:
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
