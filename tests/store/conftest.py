"""The store contract suite runs against every backend: SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infobarrier.store.database import Store
from pg_cluster import Cluster

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contract.db'}"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh, migrated store of each backend."""
    built = Store(store_url)
    yield built
    built.dispose()
