"""The store: one :class:`Store` per database, one :class:`Transaction` per use case.

Every use case runs in exactly one transaction (``with store.transaction() as tx``): it
commits when the block ends and rolls back on any error, so a failing command leaves the
store exactly as it was. Inside it, a tenant's data is reached only through repositories
built for that one tenant (:meth:`Transaction.scope`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from infobarrier.core.audit import GENESIS
from infobarrier.core.errors import Busy
from infobarrier.store.audit_anchor import AuditAnchor
from infobarrier.store.changes import CHANGES_KEPT
from infobarrier.store.migrate import upgrade
from infobarrier.store.schema import TenantRow, use_dialect
from infobarrier.store.transaction import Transaction

#: The PostgreSQL channel on which committed changes are announced as ``tenant_id:version``.
NOTIFY_CHANNEL = "infobarrier_changes"

#: Execution option of :meth:`Store.transaction` reads.
READ_ONLY = "infobarrier_read_only"
_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")

#: Seconds a writer waits for the store's write lock before giving up with :class:`Busy`
#: (the default of the setting ``sqlite_timeout_seconds``; PostgreSQL's ``lock_timeout`` too).
SQLITE_LOCK_SECONDS = 10.0


#: :meth:`Store.tenant_state`'s statement, built once: building it per call (with the name
#: as a literal) cost SQLAlchemy a new cache key each time, 300-330 µs a call against
#: 130-150 µs with this one (docs/decisions.md, "The tenant state statement built once").
_TENANT_STATE = select(TenantRow.id, TenantRow.version, TenantRow.people_search_restriction).where(
    TenantRow.name == bindparam("name")
)


class ReadOnlyViolation(RuntimeError):
    """A statement that changes data was sent inside a read transaction (a bug)."""


class Store:
    """A database: SQLite file by default, or PostgreSQL; migrated on first use."""

    def __init__(
        self,
        url: str,
        *,
        lock_seconds: float = SQLITE_LOCK_SECONDS,
        changes_kept: int = CHANGES_KEPT,
        audit_key_file: Path | None = None,
    ) -> None:
        self.url = url
        self.changes_kept = changes_kept
        self.lock_seconds = lock_seconds
        #: Writers of this process queue here (SQLite), in order, instead of polling
        #: SQLite's lock; other processes' writers are met by SQLite's busy timeout.
        self._writers = threading.RLock()
        if url.startswith("sqlite"):
            self.engine = create_engine(url, connect_args={"timeout": self.lock_seconds})
            _sqlite_serialisable(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        use_dialect(self.engine.dialect.name)
        try:
            upgrade(self.engine)
        except OperationalError as exc:
            if _is_busy(exc):
                raise self._busy() from exc
            raise
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        _refuse_writes_in_reads(self.engine)
        self.audit_anchor = AuditAnchor(url, audit_key_file)
        self._audit_key = self.audit_anchor.key
        if self.audit_anchor.created:
            self._adopt_audit_logs()

    def _adopt_audit_logs(self) -> None:
        """A new key: anchor the logs already stored, as they are now (their entries keep
        their unkeyed hashes; entries from the next one on are keyed)."""
        with self.transaction(write=False) as transaction:
            for tenant in transaction.tenants.all():
                last = transaction.scope(tenant).audit.last()
                count, head = last if last is not None else (0, GENESIS)
                self.audit_anchor.advance(tenant.id, count, head, keyed_from=count + 1)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One use case: commit on success, roll back everything on error.

        ``write=False`` is a read: on SQLite it takes no write lock (a plain ``BEGIN``
        on WAL reads a snapshot while a writer works), and any statement that would
        change data raises instead of running.
        """
        if not write:
            with Session(self._reader, expire_on_commit=False) as session, session.begin():
                yield Transaction(session, self._audit_key, changes_kept=self.changes_kept)
            return
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite and not self._writers.acquire(timeout=self.lock_seconds):
            raise self._busy()
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                if not sqlite:
                    session.execute(
                        text(f"SET LOCAL lock_timeout = {int(self.lock_seconds * 1000)}")
                    )
                yield Transaction(session, self._audit_key, changes_kept=self.changes_kept)
        except OperationalError as exc:
            if _is_busy(exc):
                raise self._busy() from exc
            raise
        finally:
            if sqlite:
                self._writers.release()

    def _busy(self) -> Busy:
        return Busy(
            f"the database is busy: its write lock was not free within {self.lock_seconds:g} s;"
            " nothing was changed, try again",
            retry_after=max(1, round(self.lock_seconds / 2)),
        )

    def tenant_state(self, name: str) -> tuple[int, int, bool] | None:
        """``(id, version, people_search_restriction)`` of a tenant, or ``None``.

        One statement on a pooled connection, without an ORM session: the check every
        decision makes that its cached epoch is still the one in force.
        """
        with self._reader.connect() as connection:
            row = connection.execute(_TENANT_STATE, {"name": name}).first()
        return None if row is None else (int(row[0]), int(row[1]), bool(row[2]))

    def announce(self, tenant_id: int, version: int) -> None:
        """Tell other replicas that a tenant reached ``version`` (PostgreSQL ``NOTIFY``).

        Called by the service after the change committed; on SQLite there is nobody to
        tell (replicas poll). Losing an announcement costs only a poll interval.
        """
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": f"{tenant_id}:{version}"},
            )
            connection.commit()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked", or PostgreSQL's ``lock_not_available`` (55P03)."""
    if getattr(exc.orig, "sqlstate", None) == "55P03":
        return True
    return "database is locked" in str(exc.orig)


def _sqlite_serialisable(engine: Engine) -> None:
    """Make each SQLite transaction ``BEGIN IMMEDIATE``: concurrent commands never interleave."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # 64 MiB of page cache (the default is 2 MiB): a bulk import of a million users
        # updates indexes far larger than 2 MiB, and would otherwise re-read their pages.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _refuse_writes_in_reads(engine: Engine) -> None:
    """A read transaction is not locked for writers: writing in it would race them."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(
        connection: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        if reading and statement.lstrip()[:7].lower().startswith(_WRITES):
            raise ReadOnlyViolation(f"write in a read transaction: {statement[:80]!r}")
