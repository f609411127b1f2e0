"""Policy application (semantics §5): atomic epochs, status history, what-if.

``apply`` records an ``InProgress`` application in its own transaction, compiles outside
any transaction, then stores the new epoch and the ``Completed`` status in one final
transaction. A process killed in between leaves the previous epoch in force; the
orphaned record is reported as ``Failed`` (interrupted) the next time anyone looks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.codes import ApplicationState, ErrorCode
from infobarrier.core.columns import UserColumns, attributes_of, groups_compared
from infobarrier.core.compiler import compile_epoch, compile_read
from infobarrier.core.directory import new_id
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import Conflict
from infobarrier.core.licenses import LicenseBook, findings_of, first_findings
from infobarrier.core.whatif import LIST_LIMIT, WhatIf, diff
from infobarrier.service.collaboration import CollaborationHandler
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.epochs import EpochProvider
from infobarrier.service.gc_pause import gc_paused
from infobarrier.store.records import Application, utcnow
from infobarrier.store.transaction import TenantRepositories

#: ``progress(stage, percent)`` while an apply runs.
ApplyProgress = Callable[[str, int], None]

#: Called once an apply completed, with the epoch that was in force and the new one (both
#: over the same directory): ``apply --changes FILE`` writes every user's change from them.
ApplyEpochs = Callable[[Epoch, Epoch], None]


def _quiet(stage: str, percent: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Preview:
    """``apply --what-if``: what would change, and the conflicts the new epoch would have."""

    whatif: WhatIf
    conflicts: list[dict[str, Any]]
    findings: list[str]
    total_recipients: int
    #: What reconciliation (§8) would do to existing chats, teams, meetings and calls.
    reconciliation: list[dict[str, Any]] = field(default_factory=list)


class Cancelled(Exception):
    """A preview stopped because whoever asked for it no longer waits for it."""


def _conflicts(epoch: Epoch) -> list[dict[str, Any]]:
    return [
        {"upn": epoch.upns[i], "error": "IBPolicyConflict", "segments": list(epoch.segments_of(i))}
        for i in epoch.conflicts()
    ]


def _segmented(epoch: Epoch) -> list[int]:
    """The positions of the epoch's segmented users."""
    sizes = np.fromiter((len(p) for p in epoch.profiles), dtype=np.int64)
    return np.flatnonzero(sizes[epoch.profile_array()] > 0).tolist()


def _findings(epoch: Epoch, licenses: LicenseBook) -> list[str]:
    """The licensing findings of the epoch's segmented users (§2), from the epoch alone."""
    ids, upns = epoch.user_ids, epoch.upns
    return findings_of(licenses, ((ids[i], upns[i]) for i in _segmented(epoch)))


def _read(tx: TenantTx, config: BarrierConfig) -> UserColumns:
    """The directory as columns: the attributes the new definitions and the ones in force
    compare (the epoch in force may have to be compiled over the same read)."""
    exprs = [s.expr for s in config.segments]
    stored = tx.repos.applications.current_epoch()
    if stored is not None:
        exprs += [s.expr for s in stored[1].segments]
    return tx.repos.directory.read_columns(attributes_of(exprs), groups_compared(exprs))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ApplicationHandler:
    """Start, preview, stop and report policy applications."""

    def __init__(
        self, ctx: Context, epochs: EpochProvider, *, list_limit: int = LIST_LIMIT
    ) -> None:
        self.ctx = ctx
        self.epochs = epochs
        self.list_limit = list_limit

    # -- status -----------------------------------------------------------------------
    @staticmethod
    def _stale(repos: TenantRepositories) -> list[Application]:
        """InProgress records of processes on this host that are gone."""
        host = socket.gethostname()
        return [
            app
            for app in repos.applications.running()
            if app.host == host and app.pid != os.getpid() and not _alive(app.pid)
        ]

    def reap_stale(self, repos: TenantRepositories) -> None:
        """Mark InProgress records of dead processes on this host as Failed (interrupted)."""
        host = socket.gethostname()
        for app in self._stale(repos):
            repos.applications.update(
                app.id,
                status=ApplicationState.FAILED,
                ended_at=utcnow(),
                error=f"interrupted: process {app.pid} on {host} ended before completing; "
                "the previous epoch stays in force",
            )

    def history(self, tenant: str) -> list[Application]:
        """Every application, newest first. A read, unless an interrupted application is
        to be reported as Failed first: only then is a write transaction opened (``status``
        neither waits for nor blocks a writer)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            if not self._stale(tx.repos):
                return tx.repos.applications.all()
        with self.ctx.tenant_tx(tenant, "") as tx:
            self.reap_stale(tx.repos)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.applications.all()

    def get(self, tenant: str, application_id: str) -> Application:
        """One application by id or number."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.applications.get(application_id)

    def stop(self, tenant: str, application_id: str, actor: str) -> Application:
        """``Stop-InformationBarrierPoliciesApplication``: the epoch in force stays."""
        with self.ctx.tenant_tx(tenant, actor) as tx:
            app = tx.repos.applications.get(application_id)
            if app.status is not ApplicationState.IN_PROGRESS:
                raise Conflict(f"application {app.seq} is {app.status}, not running")
            tx.repos.applications.update(app.id, status=ApplicationState.STOPPED, ended_at=utcnow())
            tx.audit("apply.stopped", application=app.id)
            return tx.repos.applications.get(app.id)

    # -- preview ------------------------------------------------------------------------
    def what_if(self, tenant: str) -> Preview:
        """What applying the current definitions would change; changes nothing."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            config = tx.repos.barriers.load()
            licenses = tx.repos.licenses.load()
            read = _read(tx, config)
            before = self.epochs.in_force_over(tx, read)
            candidate = compile_read(read, config)
            _changed, reconciliation = CollaborationHandler.plan_all(tx, candidate)
        return Preview(
            diff(before, candidate, limit=self.list_limit),
            _conflicts(candidate),
            _findings(candidate, licenses),
            len(candidate),
            reconciliation,
        )

    def what_if_draft(
        self,
        tenant: str,
        draft: Callable[[BarrierConfig], BarrierConfig],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Preview:
        """What applying a *draft* of the definitions would change; saves nothing.

        ``draft`` turns the definitions as they are into the draft, through
        :class:`BarrierConfig`'s own edits, so a broken rule raises ``RuleViolation``
        naming it, exactly as saving the same edits would. The draft is compiled against
        the current directory and compared with the epoch in force, as :meth:`what_if`.

        ``cancelled`` is asked between segments while compiling and before planning
        reconciliation: once it answers true (the page that asked has gone) the preview
        stops with :class:`Cancelled` instead of computing an answer nobody reads.
        """

        def check(_stage: str, _done: int, _total: int) -> None:
            if cancelled():
                raise Cancelled("the preview's requester has gone")

        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            config = draft(tx.repos.barriers.load())
            licenses = tx.repos.licenses.load()
            read = _read(tx, config)
            before = self.epochs.in_force_over(tx, read)
            candidate = compile_read(read, config, check)
            check("reconciliation", 0, 1)
            _changed, reconciliation = CollaborationHandler.plan_all(tx, candidate)
        return Preview(
            diff(before, candidate, limit=self.list_limit),
            _conflicts(candidate),
            _findings(candidate, licenses),
            len(candidate),
            reconciliation,
        )

    # -- apply --------------------------------------------------------------------------
    def apply(
        self,
        tenant: str,
        actor: str,
        progress: ApplyProgress = _quiet,
        epochs: ApplyEpochs | None = None,
    ) -> Application:
        """Start-InformationBarrierPoliciesApplication, waiting until it ends."""
        return self.run(tenant, self.begin(tenant, actor), actor, progress, epochs)

    def begin(self, tenant: str, actor: str) -> str:
        """Record an InProgress application (refused while one runs); returns its id."""
        application_id = new_id()
        with self.ctx.tenant_tx(tenant, actor) as tx:
            self.reap_stale(tx.repos)
            running = tx.repos.applications.running()
            if running:
                raise Conflict(
                    f"application {running[0].seq} ({running[0].id}) is already running, "
                    f"started {running[0].started_at:%Y-%m-%d %H:%M:%S} UTC by {running[0].actor}",
                    code=ErrorCode.APPLY_RUNNING,
                )
            tx.repos.applications.start(application_id, actor)
            tx.audit("apply.started", application=application_id)
        return application_id

    def run(
        self,
        tenant: str,
        application_id: str,
        actor: str,
        progress: ApplyProgress = _quiet,
        epochs: ApplyEpochs | None = None,
    ) -> Application:
        """Compile and store the epoch of a begun application (in this thread)."""
        try:
            # The cyclic collector is paused until the epoch is stored: the read builds
            # millions of strings, tuples and parsed attribute maps, none in a cycle, which
            # it would otherwise scan again and again (a third of the read at 1M users).
            with gc_paused():
                done = self._run(tenant, application_id, actor, progress)
        except BaseException as exc:
            with self.ctx.tenant_tx(tenant, actor) as tx:
                tx.repos.applications.update(
                    application_id,
                    status=ApplicationState.FAILED,
                    ended_at=utcnow(),
                    error=str(exc) or repr(exc),
                )
                tx.audit("apply.failed", application=application_id, error=str(exc))
            raise
        if isinstance(done, Application):
            return done  # stopped meanwhile: no epoch is produced
        progress("done", 100)
        if epochs is not None:
            epochs(*done[1:])
        return done[0]

    def _run(
        self, tenant: str, application_id: str, actor: str, progress: ApplyProgress
    ) -> Application | tuple[Application, Epoch, Epoch]:
        """:meth:`run`'s work: the completed application with the epoch that was in force
        and the new one, or the application alone when it was stopped meanwhile."""
        progress("reading", 5)
        # One read of the directory, as columns: the new epoch is compiled over it, and
        # the epoch in force is its stored form (compiled over it only when that cannot
        # be used), so a directory is neither loaded as objects nor compiled twice.
        with self.ctx.tenant_tx(tenant, actor, write=False) as tx:
            config = tx.repos.barriers.load()
            licenses = tx.repos.licenses.load()
            read = _read(tx, config)
            before = self.epochs.in_force_over(tx, read)
            version = tx.tenant.version
        self._percent(tenant, application_id, 10)

        def compile_progress(stage: str, done: int, total: int) -> None:
            progress(stage, 10 + (80 * done // max(total, 1) if stage == "segments" else 80))

        epoch = compile_read(read, config, compile_progress)
        del read
        progress("saving", 90)
        report = self._report(before, epoch, licenses)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            app = tx.repos.applications.get(application_id)
            if app.status is not ApplicationState.IN_PROGRESS:
                return app
            self._complete(tx, application_id, config, report, (epoch, version))
            return tx.repos.applications.get(application_id), before, epoch

    def start_background(self, tenant: str, actor: str) -> str:
        """Begin an application and run it on a thread (the HTTP API's 202)."""
        application_id = self.begin(tenant, actor)

        def work() -> None:
            with contextlib.suppress(Exception):  # the failure is recorded in the status
                self.run(tenant, application_id, actor)

        threading.Thread(target=work, name=f"apply-{application_id}", daemon=True).start()
        return application_id

    def apply_in(self, tx: TenantTx) -> Application:
        """Apply inside the caller's transaction (a PowerShell script's Start-... line)."""
        self.reap_stale(tx.repos)
        application_id = new_id()
        tx.repos.applications.start(application_id, tx.actor)
        tx.audit("apply.started", application=application_id)
        current = self.epochs.current(tx, fresh=True)
        config = tx.repos.barriers.load()
        epoch = compile_epoch(current.directory, config)
        report = self._report(current.epoch, epoch, tx.repos.licenses.load())
        self._complete(tx, application_id, config, report, (epoch, None))
        return tx.repos.applications.get(application_id)

    def _percent(self, tenant: str, application_id: str, percent: int) -> None:
        with self.ctx.tenant_tx(tenant, "") as tx:
            tx.repos.applications.update(application_id, percent=percent)

    def _report(self, before: Epoch, after: Epoch, licenses: LicenseBook) -> dict[str, Any]:
        changes = diff(before, after, limit=self.list_limit)
        found, found_total = first_findings(
            licenses, after.user_ids, after.upns, _segmented(after), self.list_limit
        )
        return {
            "total_recipients": len(after),
            "conflicts": _conflicts(after),
            # The first ``list_limit`` (one line per unlicensed segmented user would be
            # most of a large tenant); the count beside them.
            "findings": found,
            "findings_total": found_total,
            "segments": len(after.config.segments),
            "active_policies": len(after.config.policies),
            "segment_users": dict(zip(after.segment_names, after.segment_counts(), strict=True)),
            "changes": changes.as_dict(),
        }

    def _complete(
        self,
        tx: TenantTx,
        application_id: str,
        config: BarrierConfig,
        report: dict[str, Any],
        compiled: tuple[Epoch, int | None] | None = None,
    ) -> None:
        """Store the epoch and complete the application. ``compiled``: the epoch compiled
        for it and the tenant version of the directory it was compiled over (``None``:
        this transaction's), stored as the epoch's compiled form for readers."""
        epoch_id = tx.repos.applications.add_epoch(application_id, config)
        if compiled is not None:
            self.epochs.store_applied(tx, epoch_id, compiled[0], compiled[1])
        report["epoch"] = epoch_id
        if tx.repos.collab.objects():
            fresh = self.epochs.current(tx, fresh=True).epoch
            report["reconciliation"] = CollaborationHandler.reconcile_in(tx, fresh)
        else:
            report["reconciliation"] = []
        tx.repos.applications.update(
            application_id,
            status=ApplicationState.COMPLETED,
            ended_at=utcnow(),
            percent=100,
            total_recipients=report["total_recipients"],
            failed_recipients=len(report["conflicts"]),
            report=report,
        )
        tx.audit(
            "apply.completed",
            application=application_id,
            epoch=epoch_id,
            failed_recipients=len(report["conflicts"]),
        )
