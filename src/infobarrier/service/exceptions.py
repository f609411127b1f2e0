"""Wall-crossing exceptions (semantics §11): request, approve, reject, revoke, expire.

Each operation is one tenant transaction that checks its input (unknown users, segments
or actions, a bad window, four eyes, the state), writes the exception, audits it, and, when
decisions move (approval, revocation, expiry), bumps the tenant's version with no users:
cached epochs stay, and the exceptions they carry are read again. Revocation and expiry
then reconcile existing conversations exactly as a policy change does (§8), each
reconciliation entry naming the exception that caused it.

Decisions compare an approved exception's window with the clock, so an exception closes
at its end without anyone acting; :meth:`ExceptionHandler.sweep` records the expiry and
reconciles (``serve`` runs it in the background, every command and exceptions request
runs it first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from infobarrier.core.codes import ErrorCode
from infobarrier.core.collaboration import Chat, collab_from_json
from infobarrier.core.decisions import OPENABLE, compatibility
from infobarrier.core.directory import fold, new_id
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.exceptions import (
    ExceptionIndex,
    State,
    WallException,
    approve,
    expire,
    iso,
    new_request,
    reject,
    revoke,
)
from infobarrier.core.reconcile import epoch_upn_of, policy_compatible, reconcile_all
from infobarrier.service.collaboration import CollaborationHandler
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.epochs import EpochProvider
from infobarrier.store.exceptions_repository import tenants_due

#: At most this many pairs and conversations are listed by a what-if (totals are complete).
LISTED = 1000

#: The longest maximum window a tenant may set.
LONGEST_MAX_WINDOW = timedelta(days=366)


def describe(exc: WallException, now: datetime) -> dict[str, Any]:
    """An exception as JSON, with whether it is active and how long it has left."""
    data = exc.to_json()
    data["active"] = exc.is_active(now)
    data["remaining_seconds"] = (
        max(0, int((exc.end - now).total_seconds()))
        if exc.state in (State.REQUESTED, State.APPROVED)
        else 0
    )
    return data


class ExceptionHandler:
    """Wall-crossing exceptions of a tenant."""

    def __init__(self, ctx: Context, epochs: EpochProvider) -> None:
        self.ctx = ctx
        self.epochs = epochs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- requests ---------------------------------------------------------------------------
    def request(
        self,
        tenant: str,
        *,
        users: Sequence[str] | None = None,
        segments: Sequence[str] | None = None,
        actions: Sequence[str],
        start: datetime | None,
        end: datetime,
        why: str,
        actor: str,
        via: str | None = None,
    ) -> WallException:
        """A new request (``users``: two UPNs, or ``segments``: two segment names)."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            now = tx.clock()
            named_users = None
            named_segments = None
            if (users is None) == (segments is None):
                raise InvalidInput("name either two users (--users) or two segments (--segments)")
            if users is not None:
                if len(users) != 2:
                    raise InvalidInput(f"an exception names exactly two users, got {len(users)}")
                found = []
                for upn in users:
                    user = tx.repos.directory.find_user(upn)
                    if user is None:
                        raise NotFound(f"no user {upn!r}", code=ErrorCode.UNKNOWN_USER)
                    found.append((user.id, user.upn))
                named_users = (found[0], found[1])
            if segments is not None:
                if len(segments) != 2:
                    raise InvalidInput(
                        f"an exception names exactly two segments, got {len(segments)}"
                    )
                config = tx.repos.barriers.load()
                names = []
                for name in segments:
                    segment = config.find_segment(name.strip())
                    if segment is None:
                        raise NotFound(f"no segment {name!r}", code=ErrorCode.UNKNOWN_SEGMENT)
                    names.append(segment.name)
                named_segments = (names[0], names[1])
            exc = new_request(
                id=new_id(),
                users=named_users,
                segments=named_segments,
                actions=actions,
                start=start if start is not None else now,
                end=end,
                justification=why,
                requester=actor,
                now=now,
                max_window=tx.repos.exceptions.max_window(),
            )
            tx.repos.exceptions.save(exc)
            tx.audit(
                "exception.requested",
                exception=exc.id,
                scope=exc.scope(),
                actions=[a.value for a in exc.actions],
                start=iso(exc.start),
                end=iso(exc.end),
                justification=exc.justification,
                requester=exc.requester,
                via=via,
            )
            return exc

    def approve(
        self, tenant: str, exception_id: str, actor: str, via: str | None = None
    ) -> WallException:
        """Approve a request (four eyes: not by its requester); it is active from its start."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            exc = approve(tx.repos.exceptions.get(exception_id), actor, tx.clock())
            tx.repos.exceptions.save(exc)
            tx.audit(
                "exception.approved",
                exception=exc.id,
                scope=exc.scope(),
                approver=exc.approver,
                requester=exc.requester,
                end=iso(exc.end),
                via=via,
            )
            tx.repos.changes.record([])
            return exc

    def reject(
        self, tenant: str, exception_id: str, actor: str, note: str = "", via: str | None = None
    ) -> WallException:
        """Reject a request."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            exc = reject(tx.repos.exceptions.get(exception_id), actor, tx.clock(), note)
            tx.repos.exceptions.save(exc)
            tx.audit(
                "exception.rejected",
                exception=exc.id,
                scope=exc.scope(),
                by=actor,
                note=note,
                via=via,
            )
            return exc

    def revoke(
        self, tenant: str, exception_id: str, actor: str, note: str = "", via: str | None = None
    ) -> tuple[WallException, list[dict[str, Any]]]:
        """Revoke an approved exception: closed at once, conversations reconciled (§8)."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, actor) as tx:
            exc = revoke(tx.repos.exceptions.get(exception_id), actor, tx.clock(), note)
            tx.repos.exceptions.save(exc)
            tx.audit(
                "exception.revoked",
                exception=exc.id,
                scope=exc.scope(),
                by=actor,
                note=note,
                via=via,
            )
            actions = self._close(tx, "exception.revoked", [exc.id])
            return exc, actions

    def _close(self, tx: TenantTx, cause: str, ids: list[str]) -> list[dict[str, Any]]:
        """After exceptions closed in ``tx``: decisions move; reconcile what they held."""
        tx.repos.changes.record([])
        if not tx.repos.collab.objects():
            return []
        epoch = self.epochs.epoch_after_writes(tx)
        detail: dict[str, Any] = {"cause": cause}
        detail["exception" if len(ids) == 1 else "exceptions"] = ids[0] if len(ids) == 1 else ids
        return CollaborationHandler.reconcile_in(tx, epoch, detail)

    # -- expiry -------------------------------------------------------------------------------
    def sweep(self, tenant: str | None = None) -> int:
        """Expire every requested or approved exception whose window has ended (of one
        tenant, or of all), audit each, and reconcile. Returns how many expired."""
        now = self.ctx.clock()
        with self.ctx.store.transaction(write=False) as transaction:
            due = tenants_due(transaction.session, now)
            if not due:
                return 0
            names = {t.id: t.name for t in transaction.tenants.all()}
        count = 0
        for tenant_id in due:
            name = names.get(tenant_id)
            if name is None or (tenant is not None and name != tenant):
                continue
            with self.ctx.tenant_tx(name, "(expiry)") as tx:
                now = tx.clock()
                expired = [expire(e, now) for e in tx.repos.exceptions.due(now)]
                if not expired:
                    continue
                tx.repos.exceptions.save_many(expired)
                tx.audit_many(
                    [
                        (
                            "exception.expired",
                            {
                                "exception": exc.id,
                                "scope": exc.scope(),
                                "end": iso(exc.end),
                                "was": "approved" if exc.approver else "requested",
                            },
                        )
                        for exc in expired
                    ]
                )
                opened = [e.id for e in expired if e.approver is not None]
                if opened:
                    self._close(tx, "exception.expired", opened)
                count += len(expired)
        return count

    def start_sweeping(self, every_seconds: float = 1.0) -> None:
        """Sweep in a background thread until :meth:`stop_sweeping` (``serve``)."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(every_seconds):
                try:
                    self.sweep()
                except Exception:  # keep sweeping: the next pass retries
                    continue

        self._thread = threading.Thread(target=loop, name="exceptions-sweep", daemon=True)
        self._thread.start()

    def stop_sweeping(self) -> None:
        """Stop the background sweep."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- reads ----------------------------------------------------------------------------------
    def list(self, tenant: str, states: Sequence[State] | None = None) -> list[WallException]:
        """The tenant's exceptions (of these states), oldest request first."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.exceptions.all(states)

    def get(self, tenant: str, exception_id: str) -> WallException:
        """One exception of the tenant."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.exceptions.get(exception_id)

    def now(self) -> datetime:
        """The service's clock."""
        return self.ctx.clock()

    def max_window(self, tenant: str) -> timedelta:
        """The tenant's maximum window."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return tx.repos.exceptions.max_window()

    def set_max_window(self, tenant: str, window: timedelta, actor: str) -> timedelta:
        """Set the tenant's maximum window (from one hour to a year)."""
        if not timedelta(hours=1) <= window <= LONGEST_MAX_WINDOW:
            raise InvalidInput(
                f"the maximum window must be between 1 hour and {LONGEST_MAX_WINDOW.days} days"
            )
        with self.ctx.tenant_tx(tenant, actor) as tx:
            tx.repos.exceptions.set_max_window(window)
            tx.audit("exception.max_window_set", seconds=int(window.total_seconds()))
        return window

    # -- what-if --------------------------------------------------------------------------------
    def what_if(self, tenant: str, exception_id: str) -> dict[str, Any]:
        """What approving a requested exception would change, now: the pairs of users whose
        decision flips from blocked to allowed (for which of its actions), and the existing
        conversations that hold such a pair (among participants, or people reconciliation
        removed). For an approved exception: what revoking it would do to conversations."""
        self.sweep(tenant)
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            exc = tx.repos.exceptions.get(exception_id)
            current = self.epochs.current(tx)
            others = [e for e in tx.repos.exceptions.approved() if e.id != exc.id]
            now = tx.clock()
            if exc.state is State.APPROVED:
                changed, plan = _plan_without(tx, current.epoch, exc.id)
                return {
                    "exception": exc.id,
                    "state": exc.state.value,
                    "effect": "revoke",
                    "conversations_total": len(changed),
                    "reconciliation": plan[:LISTED],
                    "reconciliation_total": len(plan),
                }
            if exc.state is not State.REQUESTED:
                raise InvalidInput(
                    f"exception {exc.id} is {exc.state.value}: approving it is not possible"
                )
            objects = [collab_from_json(d) for d in tx.repos.collab.objects()]
        epoch = current.epoch
        active = ExceptionIndex(others).at(now)
        # As if approved and active: at its start if that is later than now.
        probe = ExceptionIndex([replace(exc, state=State.APPROVED)]).at(max(now, exc.start))
        assert probe is not None

        def flips(u: int, v: int) -> list[str]:
            """The exception's actions for which (u, v) flips from blocked to allowed."""
            base = compatibility(epoch, u, v)
            if base.allowed or base.code not in OPENABLE:
                return []
            if probe.opening(epoch, u, v, None) is None:
                return []
            return [
                a.value
                for a in exc.actions
                if active is None or active.opening(epoch, u, v, a) is None
            ]

        pairs: list[dict[str, Any]] = []
        total = 0
        for (u_list, v_list, same), acts in _candidates(epoch, exc, flips):
            total += len(u_list) * (len(u_list) - 1) // 2 if same else len(u_list) * len(v_list)
            for n, u in enumerate(u_list):
                if len(pairs) >= LISTED:
                    break
                for v in u_list[n + 1 :] if same else v_list:
                    if len(pairs) >= LISTED:
                        break
                    pairs.append({"pair": [epoch.upns[u], epoch.upns[v]], "actions": acts})
        conversations: list[dict[str, Any]] = []
        for obj in objects:
            ids = list(obj.participant_ids())
            if isinstance(obj, Chat):
                ids += list(obj.removed)
            idx = [i for i in (epoch.index_of_id(x) for x in ids) if i is not None]
            held = [
                [epoch.upns[a], epoch.upns[b]]
                for n, a in enumerate(idx)
                for b in idx[n + 1 :]
                if flips(a, b)
            ]
            if held:
                conversations.append({"kind": obj.object_kind, "id": obj.id, "pairs": held})
        return {
            "exception": exc.id,
            "state": exc.state.value,
            "effect": "approve",
            "pairs_total": total,
            "pairs": pairs,
            "conversations_total": len(conversations),
            "conversations": conversations[:LISTED],
        }


Group = tuple[list[int], list[int], bool]


def _candidates(
    epoch: Epoch, exc: WallException, flips: Callable[[int, int], list[str]]
) -> list[tuple[Group, list[str]]]:
    """The users whose pairs approving ``exc`` flips, as groups ``(us, vs, same)``: every
    ``u`` of ``us`` with every ``v`` of ``vs`` (``same``: every pair within ``us``), with
    the actions that flip. A segment exception is decided per pair of profiles (users of
    one profile share their verdicts), so a segment of 50,000 users costs no more."""
    if exc.users is not None:
        i, j = epoch.index_of_id(exc.users[0]), epoch.index_of_id(exc.users[1])
        if i is None or j is None:
            return []
        acts = flips(i, j)
        return [(([i], [j], False), acts)] if acts else []
    assert exc.segments is not None
    first, second = fold(exc.segments[0]), fold(exc.segments[1])
    folded = [fold(n) for n in epoch.segment_names]
    by_key: dict[int, list[int]] = {}
    for i in range(len(epoch)):
        k = epoch.key(i)
        if k >= 0:
            by_key.setdefault(k, []).append(i)

    def holding(name: str) -> list[int]:
        return [k for k in by_key if any(folded[s] == name for s in epoch.profiles[k])]

    profile_pairs = {(min(p, q), max(p, q)) for p in holding(first) for q in holding(second)}
    found: list[tuple[Group, list[str]]] = []
    for p, q in sorted(profile_pairs):
        us, vs = by_key[p], by_key[q]
        same = p == q
        if same and len(us) < 2:
            continue
        acts = flips(us[0], us[1] if same else vs[0])
        if acts:
            found.append(((us, vs, same), acts))
    return found


def _plan_without(
    tx: TenantTx, epoch: Epoch, exception_id: str
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The reconciliation revoking ``exception_id`` would cause (nothing saved)."""
    objects = [collab_from_json(d) for d in tx.repos.collab.objects()]
    if not objects:
        return [], []
    others = [e for e in tx.repos.exceptions.approved() if e.id != exception_id]
    upn_of = epoch_upn_of(epoch)
    base = policy_compatible(epoch)
    openings = ExceptionIndex(others).at(tx.clock())
    per_object = openings.relation_for(epoch, base) if openings is not None else None
    changed, actions = reconcile_all(objects, base, upn_of, per_object)
    return changed, [
        {
            **a.as_dict(),
            "reason": a.describe(upn_of),
            "upn": upn_of(a.user_id) if a.user_id else None,
        }
        for a in actions
    ]


__all__ = ["LISTED", "ExceptionHandler", "describe"]
