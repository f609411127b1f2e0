"""The epoch in force for a tenant: the applied configuration over today's directory (§5).

This is the one place decisions get an epoch from. It compiles the directory as it is
now against the epoch's own copy of segments and policies, so a directory change takes
effect at once without re-apply; the compiled epoch is cached until either changes.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field, replace

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory, fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.exceptions import ExceptionIndex
from infobarrier.core.patch import OVERLAY_LIMIT, patch_epoch
from infobarrier.core.search import SearchIndex
from infobarrier.service.context import TenantTx
from infobarrier.store.records import Tenant
from infobarrier.store.transaction import TenantRepositories


@dataclass(slots=True)
class Current:
    """An epoch with the directory it was compiled over and its stored id (0: none yet).

    The search index is built on first use and carried over (with the changed users
    marked stale) when the epoch is patched. ``exceptions`` are the tenant's approved
    wall-crossing exceptions (§11), read with the epoch: a change to them records a tenant
    version with no users, which patches nothing and reads them again.
    """

    epoch: Epoch
    directory: Directory
    epoch_id: int
    search_index: SearchIndex | None = None
    exceptions: ExceptionIndex = field(default_factory=ExceptionIndex)

    def search(self) -> SearchIndex:
        """The search index over this epoch's users (built once, on first use)."""
        if self.search_index is None:
            users = [self.directory.user(uid) for uid in self.epoch.user_ids]
            self.search_index = SearchIndex.build(users)
        return self.search_index


#: Above this many changed users, a recompile is cheaper than patching one by one (the
#: default of the setting ``patch_limit``).
PATCH_LIMIT = 5000


class EpochProvider:
    """The epoch in force per tenant, cached until the tenant's version moves.

    The tenant's ``version`` is bumped in the same transaction as every directory change
    and every apply, with a record of the users concerned. A cache that is behind catches
    up by patching just those users into its epoch (``core.patch``), or recompiles when an
    apply (or a change to everyone) happened. Only read-only transactions touch the cache:
    a writer may be looking at its own uncommitted changes.
    """

    def __init__(
        self, *, patch_limit: int = PATCH_LIMIT, overlay_limit: int = OVERLAY_LIMIT
    ) -> None:
        self.patch_limit = patch_limit
        self.overlay_limit = overlay_limit
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[int, Current]] = {}
        #: After caching a compiled epoch, collect garbage once and ``gc.freeze()`` the heap:
        #: the directory and epoch (hundreds of thousands of objects at 100k users) then no
        #: longer take part in every full collection, which otherwise a request that
        #: allocates a few thousand objects triggers (1-2 ms per 1,000-check batch at 100k
        #: users). Set by servers (``ChangeFeed.start``); objects that become garbage later
        #: are still freed by reference counting.
        self.freeze_heap = False

    def cached(self, tenant_id: int, version: int) -> Current | None:
        """The cached epoch of a tenant if it is at ``version``, else ``None``."""
        with self._lock:
            hit = self._cache.get(tenant_id)
        return hit[1] if hit is not None and hit[0] == version else None

    def cached_version(self, tenant_id: int) -> int | None:
        """The version the cache holds for a tenant, if any."""
        with self._lock:
            hit = self._cache.get(tenant_id)
        return hit[0] if hit is not None else None

    def current(self, tx: TenantTx, *, fresh: bool = False) -> Current:
        """The epoch in force over the current directory (nobody segmented before apply).

        A cached epoch of the same tenant version is reused, also at the start of a write
        transaction; ``fresh=True`` is for a writer that has already changed the directory
        (its ``tx.tenant.version`` is then stale).
        """
        tenant = tx.tenant
        if fresh:
            return self._compile(tx.repos, tenant)
        with self._lock:
            hit = self._cache.get(tenant.id)
        if hit is not None and hit[0] == tenant.version:
            return hit[1]
        if tx.write:
            return self._compile(tx.repos, tenant)
        with self._lock:  # one catch-up per tenant at a time; others wait and reuse it
            hit = self._cache.get(tenant.id)
            if hit is not None and hit[0] == tenant.version:
                return hit[1]
            built = None
            if hit is not None and hit[0] < tenant.version:
                built = self._catch_up(tx.repos, tenant, hit[0], hit[1])
            if built is None:
                built = self._compile(tx.repos, tenant)
                if self.freeze_heap:
                    gc.collect()
                    gc.freeze()
            self._cache[tenant.id] = (tenant.version, built)
            return built

    def epoch_after_writes(self, tx: TenantTx) -> Epoch:
        """The epoch as it will be once ``tx`` commits, for reconciliation inside ``tx``.

        Patched from the cached epoch with the users changed since it (read back from the
        change records, this transaction's own included), or compiled afresh when that is
        not possible. The cache is not touched: ``tx`` may still roll back.
        """
        with self._lock:
            hit = self._cache.get(tx.tenant.id)
        # Behind is fine (other writers committed since the cache was filled, with no read
        # in between): their users are patched too, if the change records are all there.
        changes = [] if hit is None else tx.repos.changes.since(hit[0])
        contiguous = hit is not None and [v for v, _ in changes] == list(
            range(hit[0] + 1, hit[0] + 1 + len(changes))
        )
        if hit is not None and hit[0] <= tx.tenant.version and contiguous:
            ids: set[str] = set()
            for _version, users in changes:
                if users is None:
                    ids = set()
                    break
                ids.update(users)
            else:
                if not ids:  # only exceptions changed (or nothing): the same epoch
                    return hit[1].epoch
                if len(ids) <= self.patch_limit:
                    loaded = tx.repos.directory.load_users(sorted(ids))
                    if len(loaded) == len(ids):
                        patched = patch_epoch(
                            hit[1].epoch,
                            [(u, [n for g in groups for n in g.names()]) for u, groups in loaded],
                            overlay_limit=self.overlay_limit,
                        )
                        if patched is not None:
                            return patched
        return self._compile(tx.repos, tx.tenant).epoch

    def _catch_up(
        self, repo: TenantRepositories, tenant: Tenant, since: int, held: Current
    ) -> Current | None:
        """Patch the held epoch with the users changed since ``since``, if it can be."""
        changes = repo.changes.since(since)
        versions = [v for v, _ in changes if v <= tenant.version]
        if versions != list(range(since + 1, tenant.version + 1)):
            return None  # history pruned, or not visible yet
        ids: set[str] = set()
        for version, users in changes:
            if version > tenant.version:
                break
            if users is None:
                return None  # an apply, or a change to everyone
            ids.update(users)
        if len(ids) > self.patch_limit:
            return None
        loaded = repo.directory.load_users(sorted(ids))
        if len(loaded) != len(ids):
            return None  # a user was removed
        directory = held.directory
        try:
            for user, groups in loaded:
                for group in groups:
                    known = directory.find_group(group.id)
                    if known is None:
                        directory.put_group(group)
                    elif (known.display_name, known.mail) != (group.display_name, group.mail):
                        directory.put_group(
                            replace(known, display_name=group.display_name, mail=group.mail)
                        )
                directory.put_user(user)
                directory.set_user_groups(user.id, [g.id for g in groups])
        except InfobarrierError:
            return None
        patched = patch_epoch(
            held.epoch,
            [(user, directory.member_of_values(user.id)) for user, _groups in loaded],
            overlay_limit=self.overlay_limit,
        )
        if patched is None:
            return None
        index = held.search_index
        if index is not None:
            index = index.with_stale(patched.upn_index[fold(u.upn)] for u, _ in loaded)
        return Current(patched, directory, held.epoch_id, index, _exceptions(repo))

    @staticmethod
    def _compile(repo: TenantRepositories, tenant: Tenant) -> Current:
        stored = repo.applications.current_epoch()
        directory = repo.directory.load()
        if stored is None:
            config = BarrierConfig(
                mode=tenant.mode, people_search_restriction=tenant.people_search_restriction
            )
            return Current(compile_epoch(directory, config), directory, 0, None, _exceptions(repo))
        epoch_id, config = stored
        return Current(
            compile_epoch(directory, config), directory, epoch_id, None, _exceptions(repo)
        )


def _exceptions(repo: TenantRepositories) -> ExceptionIndex:
    """The tenant's approved exceptions, indexed for decisions."""
    return ExceptionIndex(repo.exceptions.approved())
