"""How a replica hears of changes made by others (docs/replicas.md).

Correctness does not depend on this: every request compares the tenant's version in the
database with the cached epoch's and catches up first (``EpochProvider``). The feed
makes the catch-up happen *before* the next request: on PostgreSQL it ``LISTEN``s to
``infobarrier_changes`` (after each commit that moves decisions, the service announces
``tenant_id:version`` there: ``Context.tenant_tx``),
and a periodic check covers lost notifications, SQLite, and writes by other processes.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from infobarrier.service.context import Context
from infobarrier.service.epochs import EpochProvider
from infobarrier.store.database import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class ChangeFeed:
    """Background threads that keep cached epochs current."""

    def __init__(self, ctx: Context, epochs: EpochProvider, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.epochs = epochs
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start polling, and listening when the store is PostgreSQL.

        Only a server runs the feed: its compiled epochs are long-lived, so the provider
        also keeps them out of the garbage collector's way (``EpochProvider.freeze_heap``).
        """
        self.epochs.freeze_heap = True
        self._stop.clear()
        targets = [self._poll]
        if self.ctx.store.engine.dialect.name == "postgresql":
            targets.append(self._listen)
        for target in targets:
            thread = threading.Thread(target=target, name=f"feed-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the threads (they notice within a second)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def refresh(self, tenant_id: int, version: int | None = None) -> None:
        """Bring a cached tenant's epoch up to date (tenants never served are skipped)."""
        held = self.epochs.cached_version(tenant_id)
        if held is None or (version is not None and held >= version):
            return
        with self.ctx.store.transaction(write=False) as transaction:
            name = transaction.tenants.name_of(tenant_id)
        if name is None:
            return
        with self.ctx.tenant_tx(name, "", write=False) as tx:
            self.epochs.current(tx)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            with contextlib.suppress(Exception):
                with self.ctx.store.transaction(write=False) as transaction:
                    versions = transaction.tenants.versions()
                for tenant_id, version in versions.items():
                    self.refresh(tenant_id, version)

    def _listen(self) -> None:
        import psycopg

        url = self.ctx.store.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            tenant_id, _, version = note.payload.partition(":")
                            self.refresh(int(tenant_id), int(version))
            except Exception:  # reconnect; the poll covers the gap
                log.warning("change feed: listener lost its connection, retrying", exc_info=True)
                self._stop.wait(1.0)
