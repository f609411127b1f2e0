"""The epoch in force for a tenant: the applied configuration over today's directory (§5).

This is the one place decisions get an epoch from. It compiles the directory as it is
now against the epoch's own copy of segments and policies, so a directory change takes
effect at once without re-apply; the compiled epoch is cached until either changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory
from infobarrier.core.epoch import Epoch
from infobarrier.service.context import TenantTx
from infobarrier.store.repository import Repository, Tenant


@dataclass(frozen=True, slots=True)
class Current:
    """An epoch with the directory it was compiled over and its stored id (0: none yet)."""

    epoch: Epoch
    directory: Directory
    epoch_id: int


class EpochProvider:
    """Compiles the epoch in force, cached per tenant until its version moves.

    The tenant's ``version`` is bumped in the same transaction as every directory change
    and every apply, so a cached epoch is reused exactly while nothing it depends on has
    changed. Only read-only transactions fill the cache: a writer may be looking at its own
    uncommitted changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[int, Current]] = {}

    def current(self, tx: TenantTx, *, fresh: bool = False) -> Current:
        """The epoch in force over the current directory (nobody segmented before apply).

        A cached epoch of the same tenant version is reused, also at the start of a write
        transaction; ``fresh=True`` is for a writer that has already changed the directory
        (its ``tx.tenant.version`` is then stale).
        """
        tenant = tx.tenant
        if not fresh:
            with self._lock:
                hit = self._cache.get(tenant.id)
            if hit is not None and hit[0] == tenant.version:
                return hit[1]
        built = self._compile(tx.repo, tenant)
        if not tx.write:
            with self._lock:
                self._cache[tenant.id] = (tenant.version, built)
        return built

    @staticmethod
    def _compile(repo: Repository, tenant: Tenant) -> Current:
        stored = repo.current_epoch(tenant)
        directory = repo.load_directory(tenant)
        if stored is None:
            config = BarrierConfig(
                mode=tenant.mode, people_search_restriction=tenant.people_search_restriction
            )
            return Current(compile_epoch(directory, config), directory, 0)
        epoch_id, config = stored
        return Current(compile_epoch(directory, config), directory, epoch_id)
