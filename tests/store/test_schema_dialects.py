"""The partial index's WHERE is given per dialect when an engine exists, so that a SQLite
command never imports the PostgreSQL dialect (store/schema.py, ``use_dialect``)."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy.schema import CreateIndex

from infobarrier.store.database import Store
from infobarrier.store.schema import ApplicationRow


def test_the_running_index_is_partial_in_the_stores_own_dialect(store: Store) -> None:
    index = next(i for i in ApplicationRow.__table__.indexes if i.name == "uq_applications_running")
    ddl = str(CreateIndex(index).compile(dialect=store.engine.dialect))
    assert "UNIQUE INDEX uq_applications_running" in ddl
    assert "WHERE status = 'InProgress'" in ddl


def test_a_sqlite_store_does_not_import_the_postgresql_dialect(tmp_path: object) -> None:
    """Once migrated (Alembic itself loads every dialect it knows)."""
    Store(f"sqlite:///{tmp_path}/x.db").dispose()
    code = (
        "import sys\n"
        "from infobarrier.store.database import Store\n"
        f"Store('sqlite:///{tmp_path}/x.db')\n"
        "pg = 'sqlalchemy.dialects.postgresql'\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(pg))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
