"""Shared fixtures: a fresh store, the services over it, and the CLI as a function."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fuzz_seed import SEED
from infobarrier.cli.main import run
from infobarrier.service.wiring import Services, build
from pg_cluster import Cluster, throwaway_cluster


def pytest_report_header() -> str:
    """Print the fuzzing seed of this run (tests/fuzz_seed.py), to repeat a failure."""
    return f"fuzz seed: {SEED} (repeat with INFOBARRIER_FUZZ_SEED={SEED})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """And again at the end (``-q`` hides the header)."""
    terminalreporter.write_line(f"fuzz seed: {SEED} (repeat with INFOBARRIER_FUZZ_SEED={SEED})")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole run (started on first use)."""
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file of its own for each test."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    """The wired services over a fresh, migrated store."""
    built = build(db_url)
    yield built
    built.store.dispose()


@dataclass
class CliResult:
    """What one CLI run did."""

    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs ``infobarrier --db URL [--tenant T] ...`` in-process and captures the output."""

    db_url: str
    capsys: pytest.CaptureFixture[str]
    tenant: str | None = None

    def __call__(self, *args: str, tenant: str | None = None) -> CliResult:
        self.capsys.readouterr()
        chosen = tenant if tenant is not None else self.tenant
        prefix = ["--db", self.db_url] + (["--tenant", chosen] if chosen else [])
        code = run([*prefix, *args])
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def ok(self, *args: str, tenant: str | None = None) -> str:
        """Run and insist on exit code 0; return stdout."""
        result = self(*args, tenant=tenant)
        assert result.code == 0, f"{args}: exit {result.code}\n{result.out}\n{result.err}"
        return result.out


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI on a fresh database (wide terminal so tables do not wrap)."""
    return Cli(db_url, capsys)


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    # Audit keys of databases that are not SQLite files go to the data directory: one per test.
    monkeypatch.setenv("INFOBARRIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INFOBARRIER_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("INFOBARRIER_DB", raising=False)
    monkeypatch.delenv("INFOBARRIER_TENANT", raising=False)
