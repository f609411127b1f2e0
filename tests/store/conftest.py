"""The store contract suite runs against every backend listed in ``BACKENDS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infobarrier.store.repository import Store

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated store of each backend."""
    built = Store(f"sqlite:///{tmp_path / 'contract.db'}")
    yield built
    built.dispose()
