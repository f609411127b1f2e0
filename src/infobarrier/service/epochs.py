"""The epoch in force for a tenant: the applied configuration over today's directory (§5).

This is the one place decisions get an epoch from. It is the applied epoch's stored
compiled form (``store/compiled.py``) with the directory changes recorded since it patched
in (``core.patch``), so a directory change takes effect at once without re-apply and no
reader loads or compiles the whole directory. A stored form that is missing, stale or
corrupt is never used: the epoch is compiled from the directory instead, the rebuild is
logged, and the rebuilt form is stored for the next reader. The epoch is cached until the
tenant's version moves.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.columns import UserColumns
from infobarrier.core.compiler import compile_epoch, compile_read
from infobarrier.core.directory import Directory, Group, fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.exceptions import ExceptionIndex
from infobarrier.core.patch import OVERLAY_LIMIT, patch_epoch
from infobarrier.core.search import SearchIndex
from infobarrier.service.context import TenantTx
from infobarrier.store import compiled
from infobarrier.store.database import Store
from infobarrier.store.records import Tenant
from infobarrier.store.transaction import TenantRepositories

log = logging.getLogger("infobarrier.epochs")


@dataclass(slots=True)
class Current:
    """An epoch with the directory it was compiled over and its stored id (0: none yet).

    The search index is built on first use and carried over (with the changed users
    marked stale) when the epoch is patched. ``exceptions`` are the tenant's approved
    wall-crossing exceptions (§11), read with the epoch: a change to them records a tenant
    version with no users, which patches nothing and reads them again.

    An epoch loaded from its stored form comes without its directory: ``loader`` reads it
    on first use (recipient details, search, apply), in its own read transaction, and
    :attr:`directory_version` says which tenant version it was read at.
    """

    epoch: Epoch
    held_directory: Directory | None
    epoch_id: int
    search_index: SearchIndex | None = None
    exceptions: ExceptionIndex = field(default_factory=ExceptionIndex)
    loader: Callable[[], tuple[Directory, int]] | None = None
    directory_version: int | None = None

    @property
    def directory(self) -> Directory:
        """The directory (read on first use when the epoch came from its stored form)."""
        if self.held_directory is None:
            if self.loader is None:
                raise RuntimeError("an epoch without a directory and without a loader")
            self.held_directory, self.directory_version = self.loader()
        return self.held_directory

    def search(self) -> SearchIndex:
        """The search index over this epoch's users (built once, on first use)."""
        if self.search_index is None:
            users = [self.directory.user(uid) for uid in self.epoch.user_ids]
            self.search_index = SearchIndex.build(users)
        return self.search_index


#: Above this many changed users, a recompile is cheaper than patching one by one (the
#: default of the setting ``patch_limit``).
PATCH_LIMIT = 5000

#: A reader that patched more users than this into the stored form stores the patched
#: epoch as the new stored form, so the next reader patches only what changed after it.
CHECKPOINT = 256


class EpochProvider:
    """The epoch in force per tenant, cached until the tenant's version moves.

    The tenant's ``version`` is bumped in the same transaction as every directory change
    and every apply, with a record of the users concerned. A cache that is behind catches
    up by patching just those users into its epoch (``core.patch``), or recompiles when an
    apply (or a change to everyone) happened. Only read-only transactions touch the cache:
    a writer may be looking at its own uncommitted changes.
    """

    def __init__(
        self,
        *,
        patch_limit: int = PATCH_LIMIT,
        overlay_limit: int = OVERLAY_LIMIT,
        store: Store | None = None,
        checkpoint: int = CHECKPOINT,
    ) -> None:
        self.patch_limit = patch_limit
        self.overlay_limit = overlay_limit
        #: Where a reader stores a rebuilt compiled form (in its own transaction, on a
        #: thread) and reads a directory on demand; ``None``: never, directories eagerly.
        self.store = store
        self.checkpoint = checkpoint
        self._writers: list[threading.Thread] = []
        self._writers_lock = threading.Lock()  # not ``_lock``: callers may hold that one
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
            return self._load(tx.repos, tenant, persist=False)
        with self._lock:  # one catch-up per tenant at a time; others wait and reuse it
            hit = self._cache.get(tenant.id)
            if hit is not None and hit[0] == tenant.version:
                return hit[1]
            built = None
            if hit is not None and hit[0] < tenant.version:
                built = self._catch_up(tx.repos, tenant, hit[0], hit[1])
            if built is None:
                built = self._load(tx.repos, tenant, persist=True)
                if self.freeze_heap:  # a server: plain dicts for its hot path
                    built.epoch = built.epoch.realized()
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
        stored = tx.repos.applications.current_epoch()
        if stored is not None:  # no usable cache (a new process): the stored form, patched
            latest = tx.repos.changes.latest
            now = tx.tenant if latest is None else replace(tx.tenant, version=latest)
            found = self._from_stored(tx.repos, now, stored[0], stored[1], persist=False)
            if found is not None:
                return found.epoch
        return self._compile(tx.repos, tx.tenant).epoch

    def in_force_over(self, tx: TenantTx, read: UserColumns) -> Epoch:
        """The epoch in force over the directory ``read`` in ``tx``, for comparing a new
        epoch with it (``apply``, what-if) without loading the directory: the cached or
        stored epoch (patched) when it lists the same users, else the applied definitions
        (nobody segmented before the first apply) compiled over ``read``."""
        tenant = tx.tenant
        stored = tx.repos.applications.current_epoch()
        if stored is None:
            config = BarrierConfig(
                mode=tenant.mode, people_search_restriction=tenant.people_search_restriction
            )
            return compile_read(read, config)
        epoch_id, config = stored
        hit = self.cached(tenant.id, tenant.version)
        epoch = hit.epoch if hit is not None and hit.epoch_id == epoch_id else None
        if epoch is None:
            found = self._from_stored(tx.repos, tenant, epoch_id, config, persist=False)
            epoch = found.epoch if found is not None else None
        if epoch is not None and epoch.user_ids == read.ids:
            return epoch
        return compile_read(read, config)

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
        directory = held.held_directory
        if directory is None:  # not read yet: patch from the loaded rows alone
            patched = patch_epoch(
                held.epoch,
                [(u, [n for g in groups for n in g.names()]) for u, groups in loaded],
                overlay_limit=self.overlay_limit,
            )
            if patched is None:
                return None
            return Current(
                patched, None, held.epoch_id, None, _exceptions(repo), self._loader(tenant)
            )
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
        return Current(
            patched, directory, held.epoch_id, index, _exceptions(repo), None, tenant.version
        )

    def of_people(self, tx: TenantTx, upns: Iterable[str]) -> Current:
        """The epoch in force over only the users with these UPNs (unknown ones left out,
        as the whole epoch lacks them too): the applied configuration compiled over those
        users as the directory holds them now.

        Every decision between them is the whole epoch's (§5, §6): a user's segments, flags
        and usability depend on that user and the configuration alone, and a pair's verdict
        on the two users' segments, so nobody else's row takes part. This is how a process
        that asks one question and exits (the command line's ``check``) answers it without
        reading the stored epoch of every user; nothing is cached. A property test holds it
        equal to the epoch in force on random tenants, changes and exceptions.
        """
        repo = tx.repos
        epoch_id, config = _config_in_force(repo, tx.tenant)
        loaded = repo.directory.load_users(repo.directory.ids_of(upns))
        members: dict[str, set[str]] = {}
        groups: dict[str, Group] = {}
        for user, direct in loaded:
            for group in direct:
                groups.setdefault(group.id, group)
                members.setdefault(group.id, set()).add(user.id)
        directory = Directory(
            (user for user, _ in loaded),
            (replace(g, members=frozenset(members[g.id])) for g in groups.values()),
        )
        return Current(
            compile_epoch(directory, config),
            directory,
            epoch_id,
            None,
            _exceptions(repo),
            None,
            tx.tenant.version,
        )

    @staticmethod
    def _compile(repo: TenantRepositories, tenant: Tenant) -> Current:
        """Compile from the whole directory (a writer's own view, or a rebuild).

        ``directory_version`` is ``tenant.version``: exact for a read; a writer that has
        changed the directory already knows better (``ApplicationHandler.apply_in``)."""
        epoch_id, config = _config_in_force(repo, tenant)
        directory = repo.directory.load()
        return Current(
            compile_epoch(directory, config),
            directory,
            epoch_id,
            None,
            _exceptions(repo),
            None,
            tenant.version,
        )

    def _load(self, repo: TenantRepositories, tenant: Tenant, *, persist: bool) -> Current:
        """The epoch in force at ``tenant.version``: its stored form and the changes since
        it, or (when that cannot be) compiled from the directory and, if ``persist``,
        stored for the next reader."""
        stored = repo.applications.current_epoch()
        if stored is None:
            return self._compile(repo, tenant)  # nothing applied: nobody is segmented
        epoch_id, config = stored
        found = self._from_stored(repo, tenant, epoch_id, config, persist=persist)
        if found is not None:
            return found
        current = self._compile(repo, tenant)
        if persist:
            self.save_later(tenant, epoch_id, tenant.version, current.epoch, force=True)
        return current

    def _from_stored(
        self,
        repo: TenantRepositories,
        tenant: Tenant,
        epoch_id: int,
        config: BarrierConfig,
        *,
        persist: bool,
    ) -> Current | None:
        """The stored form patched up to ``tenant.version``, or ``None`` (logged: why)."""
        form = repo.applications.compiled()
        where = f"tenant {tenant.name!r} epoch {epoch_id}"
        if form is None:
            log.warning("%s: no stored compiled form; rebuilding from the directory", where)
            return None
        if form.epoch_id != epoch_id:
            log.warning(
                "%s: the stored compiled form is of epoch %d; rebuilding", where, form.epoch_id
            )
            return None
        if form.version > tenant.version:
            log.info("%s: the stored compiled form is newer than this read; compiling", where)
            return None
        try:
            epoch = compiled.decode(form, config)
        except compiled.StaleForm as exc:
            log.warning("%s: stored compiled form not used (%s); rebuilding", where, exc)
            return None
        changes = repo.changes.since(form.version)
        versions = [v for v, _ in changes if v <= tenant.version]
        if versions != list(range(form.version + 1, tenant.version + 1)):
            log.info("%s: changes since the stored form were pruned; rebuilding", where)
            return None
        ids: set[str] = set()
        for version, users in changes:
            if version > tenant.version:
                break
            if users is None:
                log.info("%s: a change to everyone since the stored form; rebuilding", where)
                return None
            ids.update(users)
        if len(ids) > self.patch_limit:
            log.info("%s: %d users changed since the stored form; rebuilding", where, len(ids))
            return None
        if ids:
            loaded = repo.directory.load_users(sorted(ids))
            patched = (
                patch_epoch(
                    epoch,
                    [(u, [n for g in groups for n in g.names()]) for u, groups in loaded],
                    overlay_limit=self.overlay_limit,
                )
                if len(loaded) == len(ids)
                else None
            )
            if patched is None:
                log.info("%s: users added or removed since the stored form; rebuilding", where)
                return None
            epoch = patched
            if persist and len(ids) > self.checkpoint:
                self.save_later(tenant, epoch_id, tenant.version, epoch, force=False)
        loader = self._loader(tenant)
        if loader is None:  # no store to read it from later: read it now
            directory = repo.directory.load()
            return Current(
                epoch, directory, epoch_id, None, _exceptions(repo), None, tenant.version
            )
        return Current(epoch, None, epoch_id, None, _exceptions(repo), loader)

    def _loader(self, tenant: Tenant) -> Callable[[], tuple[Directory, int]] | None:
        store = self.store
        if store is None:
            return None
        name = tenant.name

        def load() -> tuple[Directory, int]:
            with store.transaction(write=False) as transaction:
                found = transaction.tenants.get(name)
                return transaction.scope(found).directory.load(), found.version

        return load

    # -- the stored form ------------------------------------------------------------------
    def store_applied(self, tx: TenantTx, epoch_id: int, epoch: Epoch, since: int | None) -> bool:
        """Store the compiled form of an epoch being applied in ``tx`` (right after
        ``add_epoch`` recorded its version). ``since`` is the tenant version whose directory
        it was compiled over (``None``: this transaction's own, up to now); when other
        changes were recorded after it, nothing is stored (the first reader rebuilds)."""
        version = tx.repos.changes.latest
        if version is None:
            return False
        if since is not None:
            between = tx.repos.changes.since(since)
            if [v for v, _ in between if v <= version] != [version]:
                log.info("epoch %d: the directory moved while it compiled; not stored", epoch_id)
                return False
        tx.repos.applications.save_compiled(_form(epoch_id, version, epoch))
        return True

    def save_later(
        self, tenant: Tenant, epoch_id: int, version: int, epoch: Epoch, *, force: bool
    ) -> None:
        """Store ``epoch`` as the tenant's compiled form, on a thread and in its own
        transaction (the caller's read may still be open); kept only if it is still of the
        epoch in force and newer than the one stored (``force``: replace whatever is
        stored, which was found unusable). A failure is logged, never raised: the next
        reader rebuilds again."""
        store = self.store
        if store is None:
            return

        def work() -> None:
            try:
                form = _form(epoch_id, version, epoch)
                with store.transaction() as transaction:
                    found = transaction.tenants.get(tenant.name)
                    transaction.tenants.lock(found)
                    applications = transaction.scope(found).applications
                    in_force = applications.current_epoch()
                    if in_force is None or in_force[0] != epoch_id:
                        return
                    held = applications.compiled_version()
                    recent = held is not None and held[0] == epoch_id and held[1] >= version
                    if recent and not force:
                        return  # an as recent form of this epoch is stored already
                    applications.save_compiled(form)
                log.info(
                    "tenant %r epoch %d: stored its compiled form at version %d (%d bytes)",
                    tenant.name,
                    epoch_id,
                    version,
                    len(form.data),
                )
            except Exception:
                log.warning(
                    "tenant %r: storing the compiled epoch failed", tenant.name, exc_info=True
                )

        thread = threading.Thread(target=work, name=f"store-epoch-{tenant.id}")
        with self._writers_lock:
            self._writers = [t for t in self._writers if t.is_alive()]
            self._writers.append(thread)
        thread.start()

    def wait(self) -> None:
        """Wait until the stored forms being written are written (tests, shutdown)."""
        with self._writers_lock:
            writers = list(self._writers)
        for thread in writers:
            thread.join()


def _form(epoch_id: int, version: int, epoch: Epoch) -> compiled.StoredForm:
    data = compiled.encode(epoch)
    return compiled.StoredForm(
        epoch_id,
        version,
        compiled.FORMAT,
        compiled.fingerprint(epoch.config),
        compiled.digest(data),
        data,
    )


def _config_in_force(repo: TenantRepositories, tenant: Tenant) -> tuple[int, BarrierConfig]:
    """The applied epoch's id and configuration; before any apply, ``0`` and a
    configuration with no segment (nobody is segmented, §5)."""
    stored = repo.applications.current_epoch()
    if stored is None:
        return 0, BarrierConfig(
            mode=tenant.mode, people_search_restriction=tenant.people_search_restriction
        )
    return stored


def _exceptions(repo: TenantRepositories) -> ExceptionIndex:
    """The tenant's approved exceptions, indexed for decisions."""
    return ExceptionIndex(repo.exceptions.approved())
