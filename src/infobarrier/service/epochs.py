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
from infobarrier.store.repository import Repository, Tenant


@dataclass(frozen=True, slots=True)
class Current:
    """An epoch with the directory it was compiled over and its stored id (0: none yet)."""

    epoch: Epoch
    directory: Directory
    epoch_id: int


class EpochProvider:
    """Compiles the epoch in force; later versions patch instead of recompiling."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def current(self, repo: Repository, tenant: Tenant) -> Current:
        """The epoch in force over the current directory (nobody segmented before apply)."""
        stored = repo.current_epoch(tenant)
        directory = repo.load_directory(tenant)
        if stored is None:
            config = BarrierConfig(
                mode=tenant.mode, people_search_restriction=tenant.people_search_restriction
            )
            return Current(compile_epoch(directory, config), directory, 0)
        epoch_id, config = stored
        return Current(compile_epoch(directory, config), directory, epoch_id)
