"""A vendor's onboarding and offboarding as one guided task (semantics §12).

Propose (read only), preview (what-if over the directory as the proposal leaves it), or
carry out and apply in one transaction: the proposal is worked out again inside it, so
what is saved matches the directory as it is then, and the application that follows
sees every change or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infobarrier.core.compiler import compile_epoch
from infobarrier.core.directory import Directory
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import Conflict, InvalidInput
from infobarrier.core.licenses import findings
from infobarrier.core.onboarding import (
    AccountRequest,
    Outcome,
    Proposal,
    carry_out,
    propose_offboarding,
    propose_onboarding,
)
from infobarrier.core.patch import patch_epoch, segments_of_user
from infobarrier.core.whatif import diff
from infobarrier.service.application import ApplicationHandler, Preview
from infobarrier.service.collaboration import CollaborationHandler
from infobarrier.service.context import Context, TenantTx
from infobarrier.service.epochs import Current, EpochProvider
from infobarrier.service.findings import people as people_of
from infobarrier.store.records import Application


@dataclass(frozen=True, slots=True)
class VendorRequest:
    """Onboard (accounts and engineers given) or offboard (only the vendor) a vendor."""

    vendor: str
    accounts: Sequence[AccountRequest] = ()
    engineers: Sequence[str] = ()
    offboard: bool = False


def account_segments(epoch: Epoch, directory: Directory) -> frozenset[str]:
    """The applied segments whose users are all service accounts (other vendors')."""
    kinds = people_of(epoch, directory).service  # read once per epoch, not per proposal
    profiles = epoch.profile_array()
    people = np.bincount(profiles[~kinds], minlength=len(epoch.profiles))
    members = np.bincount(profiles, minlength=len(epoch.profiles))
    has_people: set[int] = set()
    has_members: set[int] = set()
    for p, segments in enumerate(epoch.profiles):
        for s in segments:
            if members[p]:
                has_members.add(s)
            if people[p]:
                has_people.add(s)
    return frozenset(epoch.segment_names[s] for s in has_members - has_people)


def _before(
    current: Current, directory: Directory, outcome: Outcome, after: Epoch
) -> tuple[Epoch, list[tuple[int, ...]]]:
    """The epoch in force over the directory as the proposal leaves it, and the segments
    the accounts it creates would be in under it (``diff``'s ``added``).

    Only the users the proposal touches are evaluated again (§5's patch: its accounts,
    the members of its groups, the accounts it disables), instead of compiling the
    applied definitions over the whole directory a second time; compiled only when the
    users do not line up or a patch cannot express the change.
    """
    epoch = current.epoch
    count = len(epoch)
    if after.user_ids[:count] == epoch.user_ids:
        touched = {u.id for u in outcome.users}
        for group in outcome.groups:
            touched |= group.members
        for gid in outcome.groups_removed:
            gone = current.directory.find_group_by_id(gid)
            touched |= gone.members if gone is not None else set()
        known = sorted(uid for uid in touched if epoch.index_of_id(uid) is not None)
        patched = patch_epoch(
            epoch, [(directory.user(uid), directory.member_of_values(uid)) for uid in known]
        )
        if patched is not None:
            added = [
                segments_of_user(patched, directory.user(uid), directory.member_of_values(uid))
                for uid in after.user_ids[count:]
            ]
            return patched, added
    return compile_epoch(directory, epoch.config), []


class VendorHandler:
    """Propose, preview and carry out a vendor's onboarding or offboarding."""

    def __init__(
        self, ctx: Context, epochs: EpochProvider, applications: ApplicationHandler
    ) -> None:
        self.ctx = ctx
        self.epochs = epochs
        self.applications = applications

    def _propose(self, tx: TenantTx, request: VendorRequest, directory: Directory) -> Proposal:
        config = tx.repos.barriers.load()
        book = tx.repos.licenses.load()
        if request.offboard:
            return propose_offboarding(config, directory, book, request.vendor)
        current = self.epochs.current(tx)
        epoch = current.epoch
        segments_of: dict[str, tuple[str, ...]] = {}
        for upn in request.engineers:
            i = epoch.index_of(upn.strip())
            if i is not None:
                segments_of[epoch.upns[i]] = epoch.segments_of(i)
        return propose_onboarding(
            config,
            directory,
            book,
            request.vendor,
            request.accounts,
            request.engineers,
            account_segments=account_segments(epoch, current.directory),
            segments_of=segments_of,
        )

    def propose(self, tenant: str, request: VendorRequest) -> Proposal:
        """What the task would change (errors name the field they concern)."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return self._propose(tx, request, self.epochs.current(tx).directory)

    def preview(self, tenant: str, request: VendorRequest) -> tuple[Proposal, Preview | None]:
        """The proposal and what applying it would change (``None`` when it has errors).

        Both sides are compiled over the directory as the proposal leaves it (new accounts
        and groups, disabled accounts), so the pairs that flip are the definitions' doing.
        """
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            current = self.epochs.current(tx)
            proposal = self._propose(tx, request, current.directory)
            if not proposal.ok:
                return proposal, None
            directory = current.directory.copy()
            outcome = carry_out(
                proposal, tx.repos.barriers.load(), directory, tx.repos.licenses.load()
            )
            after = compile_epoch(directory, outcome.config)
            before, added = _before(current, directory, outcome, after)
            _changed, reconciliation = CollaborationHandler.plan_all(tx, after)
        has_segment = np.array([bool(p) for p in after.profiles], dtype=np.bool_)
        segmented = [
            directory.user(after.user_ids[i])
            for i in np.flatnonzero(has_segment[after.profile_array()]).tolist()
        ]
        conflicts: list[dict[str, Any]] = [
            {
                "upn": after.upns[i],
                "error": "IBPolicyConflict",
                "segments": list(after.segments_of(i)),
            }
            for i in after.conflicts()
        ]
        return proposal, Preview(
            diff(before, after, limit=self.applications.list_limit, added=added),
            conflicts,
            findings(outcome.book, segmented),
            len(after),
            reconciliation,
        )

    def carry_out(
        self, tenant: str, request: VendorRequest, actor: str, expected: dict[str, Any] | None
    ) -> tuple[Proposal, Application]:
        """Save the proposal's changes and apply, in one transaction.

        ``expected`` is the proposal the admin saw (its JSON form): when the proposal
        worked out now differs, nothing is saved (the directory or definitions changed
        since the preview).
        """
        with self.ctx.tenant_tx(tenant, actor) as tx:
            directory = tx.repos.directory.load()
            proposal = self._propose(tx, request, directory)
            if not proposal.ok:
                raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in proposal.errors))
            if expected is not None and expected != proposal.as_dict():
                raise Conflict(
                    "the proposal changed since it was shown (the directory, licenses or "
                    "definitions moved): look at the new proposal and apply again"
                )
            outcome = carry_out(
                proposal, tx.repos.barriers.load(), directory, tx.repos.licenses.load()
            )
            tx.repos.directory.save_users(outcome.users)
            tx.repos.directory.save_groups(outcome.groups)
            if outcome.groups_removed:
                tx.repos.directory.delete_groups(outcome.groups_removed)
            tx.repos.licenses.save(outcome.book)
            tx = replace(tx, tenant=tx.repos.barriers.save(outcome.config))
            tx.audit(
                f"vendor.{proposal.kind}ed",
                vendor=proposal.vendor,
                proposal=proposal.as_dict(),
            )
            application = self.applications.apply_in(tx)
        return proposal, application
