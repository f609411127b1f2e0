"""Decisions (semantics §6, §7): checks, batches, recipient status, the matrix.

All answers read one epoch (the one in force over today's directory), so a decision
never sees half an update. Bad input (unknown user, ``from`` inside ``to``) is an error,
never a yes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.contract import Action, Check, CheckError, Verdict
from infobarrier.core.decisions import Openings, answer, compatibility, decide_check
from infobarrier.core.decisions import user_index as _index
from infobarrier.core.directory import User
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InvalidInput, NotFound
from infobarrier.core.exceptions import ExceptionIndex
from infobarrier.core.licenses import findings
from infobarrier.core.matrix import Cell, allowed_rows, cell_at, full_matrix, row_names
from infobarrier.service.context import Context
from infobarrier.service.epochs import Current, EpochProvider
from infobarrier.service.findings import Findings, people


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """A user's segments, the policies that govern them, and errors (§5)."""

    upn: str
    display_name: str
    kind: str
    account_enabled: bool
    segments: list[str]
    policies: list[str]
    errors: list[str]
    findings: list[str]
    epoch_id: int
    pair: Verdict | None = None
    other: RecipientStatus | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        data: dict[str, Any] = {
            "upn": self.upn,
            "display_name": self.display_name,
            "kind": self.kind,
            "account_enabled": self.account_enabled,
            "segments": self.segments,
            "policies": self.policies,
            "errors": self.errors,
            "findings": self.findings,
            "epoch": self.epoch_id,
        }
        if self.other is not None:
            data["other"] = self.other.as_dict()
        if self.pair is not None:
            data["relationship"] = self.pair.as_dict()
        return data


def decision_state(
    version: int, restricted: bool, exceptions: ExceptionIndex, now: datetime
) -> str:
    """The decision state answers are given at, as an opaque string: two answers given at
    the same state are the same. It is the tenant version (which every directory change,
    apply and exception change moves), PeopleSearchRestriction (a setting that moves no
    version), and, when exceptions are approved, how many of their window starts and ends
    have passed (an exception opens and closes by the clock, moving no version; §11)."""
    state = f"{version}.{int(restricted)}"
    if exceptions:
        state += f".{exceptions.passed(now)}"
    return state


class DecisionHandler:
    """Checks, recipient status and the matrix for one tenant."""

    def __init__(self, ctx: Context, epochs: EpochProvider) -> None:
        self.ctx = ctx
        self.epochs = epochs

    def current(self, tenant: str) -> Current:
        """The epoch in force over today's directory."""
        return self._read(tenant)[0]

    def in_force(self, tenant: str) -> tuple[Epoch, bool]:
        """The epoch in force and the live PeopleSearchRestriction, in one read."""
        current, restricted, _version = self._read(tenant)
        return current.epoch, restricted

    def in_force_open(self, tenant: str) -> tuple[Epoch, bool, Openings | None]:
        """:meth:`in_force` and the wall-crossing exceptions active now (``None``: none
        approved), in one read."""
        current, restricted, _version = self._read(tenant)
        return current.epoch, restricted, self.openings(current)

    def openings(self, current: Current) -> Openings | None:
        """The exceptions of ``current`` active by the service's clock (§11)."""
        return current.exceptions.at(self.ctx.clock())

    def in_force_at(self, tenant: str) -> tuple[Epoch, bool, Openings | None, str]:
        """:meth:`in_force_open` and the decision state its answers are given at (they
        carry it, so a client's cache can tell when they are out of date)."""
        current, restricted, version = self._read(tenant)
        now = self.ctx.clock()
        state = decision_state(version, restricted, current.exceptions, now)
        return current.epoch, restricted, current.exceptions.at(now), state

    def version(self, tenant: str) -> tuple[int, int, bool, str]:
        """``(tenant version, epoch id in force, PeopleSearchRestriction, decision state)``
        in one read."""
        current, restricted, version = self._read(tenant)
        state = decision_state(version, restricted, current.exceptions, self.ctx.clock())
        return version, current.epoch_id, restricted, state

    def snapshot(self, tenant: str) -> tuple[Current, bool, int]:
        """The epoch in force with the tenant's approved exceptions, PeopleSearchRestriction
        and the tenant version, in one read (for a process that decides by itself, such
        as the Synapse module in-process, and applies the exceptions by its own clock)."""
        return self._read(tenant)

    def _read(self, tenant: str) -> tuple[Current, bool, int]:
        """The epoch in force, PeopleSearchRestriction and the tenant version: every
        decision starts here.

        When the cached epoch is at the tenant's version (the usual case) that is one
        statement; otherwise a read transaction catches the cache up.
        """
        state = self.ctx.store.tenant_state(tenant)
        if state is not None:
            hit = self.epochs.cached(state[0], state[1])
            if hit is not None:
                return hit, state[2], state[1]
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            return (
                self.epochs.current(tx),
                tx.tenant.people_search_restriction,
                tx.tenant.version,
            )

    def check(self, tenant: str, check: Check) -> Verdict:
        """One check; bad input raises."""
        epoch, restricted, openings = self.in_force_open(tenant)
        return decide_check(epoch, check, people_search_restriction=restricted, openings=openings)

    def check_alone(self, tenant: str, check: Check) -> Verdict:
        """:meth:`check` for a process that asks one question and exits (the command
        line): it reads only the people the check names, not the epoch of everyone
        (:meth:`EpochProvider.of_people`), so its cost does not grow with the tenant.
        The verdict is :meth:`check`'s."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            current = self.epochs.of_people(tx, [check["from"], *check["to"]])
            restricted = tx.tenant.people_search_restriction
        return decide_check(
            current.epoch,
            check,
            people_search_restriction=restricted,
            openings=self.openings(current),
        )

    def check_batch(
        self, tenant: str, checks: Sequence[Check | CheckError]
    ) -> list[Verdict | CheckError]:
        """Many checks against one epoch; a bad one is answered by an error in its place."""
        epoch, restricted, openings = self.in_force_open(tenant)
        return [
            answer(epoch, c, people_search_restriction=restricted, openings=openings)
            for c in checks
        ]

    def recipient(self, tenant: str, upn: str, other: str | None = None) -> RecipientStatus:
        """``recipient UPN [UPN2]``: segments, policies, errors, and the pair verdict."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            current = self.epochs.current(tx)
            epoch = current.epoch
            # Only the users asked about, never the whole directory (it may not be loaded).
            wanted = [epoch.user_ids[_index(epoch, n)] for n in (upn, other) if n is not None]
            rows = {user.id: user for user, _groups in tx.repos.directory.load_users(wanted)}
            licenses = tx.repos.licenses.load()

        def status(name: str) -> RecipientStatus:
            i = _index(epoch, name)
            user = rows[epoch.user_ids[i]]
            segments = list(epoch.segments_of(i))
            policies = []
            for s in segments:
                policy = epoch.config.policy_of(s)
                if policy is not None:
                    policies.append(policy.name)
            errors = []
            if epoch.in_conflict(i):
                errors.append(
                    f"IBPolicyConflict: matches {len(segments)} segments "
                    f"({', '.join(segments)}); {epoch.mode.value} mode allows fewer"
                )
            if not user.account_enabled:
                errors.append("account disabled")
            return RecipientStatus(
                user.upn,
                user.display_name,
                user.kind.value,
                user.account_enabled,
                segments,
                policies,
                errors,
                findings(licenses, [user]) if segments else [],
                current.epoch_id,
            )

        first = status(upn)
        if other is None:
            return first
        second = status(other)
        pair = compatibility(
            epoch, _index(epoch, upn), _index(epoch, other), openings=self.openings(current)
        )
        return replace(first, pair=pair, other=second)

    def relationship(self, tenant: str, a: str, b: str) -> Verdict:
        """The pair verdict of §6 with its reason; a block that an active exception opens
        for some actions is ``allowed_by_exception``, naming them (§11)."""
        current = self.current(tenant)
        epoch = current.epoch
        return compatibility(
            epoch, _index(epoch, a), _index(epoch, b), openings=self.openings(current)
        )

    def search(self, tenant: str, query: str, as_upn: str, limit: int = 25) -> list[User]:
        """Directory search of user ``as_upn``: prefix of any word of the display name, the
        UPN or the mail, case-insensitive, ordered by display name; blocked users are left
        out before the limit (§7 ``search``)."""
        if not query.strip():
            raise InvalidInput("the search text is empty")
        current, restricted, _version = self._read(tenant)
        epoch = current.epoch
        actor = _index(epoch, as_upn)
        directory = current.directory

        def user_at(i: int) -> User:
            return directory.user(epoch.user_ids[i])

        openings = self.openings(current)
        opened = None
        if openings is not None:
            active = openings

            def opened_for(i: int) -> bool:  # only blocks from segments and policies open
                return compatibility(epoch, actor, i, action=Action.SEARCH, openings=active).allowed

            opened = opened_for
        found = current.search().search(
            epoch, user_at, actor, query, limit, restricted=restricted, opened=opened
        )
        return [user_at(i) for i in found]

    def matrix(self, tenant: str) -> tuple[list[str], list[list[Cell]], list[int]]:
        """Rows (segments, then ``(none)``), the square grid, and users per row."""
        epoch = self.current(tenant).epoch
        counts = epoch.segment_counts()
        unsegmented = int((epoch.profile_array() == 0).sum())
        return row_names(epoch), full_matrix(epoch), [*counts, unsegmented]

    def matrix_grid(self, tenant: str) -> tuple[Epoch, list[str], list[str], list[int]]:
        """The epoch in force, the rows, each row's verdicts as a string
        (:func:`~infobarrier.core.matrix.allowed_rows`) and users per row: the grid without
        its reasons, which :meth:`matrix_cell` gives one cell at a time."""
        epoch = self.current(tenant).epoch
        counts = epoch.segment_counts()
        unsegmented = int((epoch.profile_array() == 0).sum())
        return epoch, row_names(epoch), allowed_rows(epoch), [*counts, unsegmented]

    def matrix_cell(self, tenant: str, a: str, b: str) -> tuple[Cell, int, int]:
        """One cell of the matrix, explained (§6), and the users of its row and column."""
        epoch = self.current(tenant).epoch
        names = [n.casefold() for n in row_names(epoch)]
        rows = []
        for name in (a, b):
            if name.casefold() not in names:
                raise NotFound(f"no segment {name!r} in the epoch in force")
            rows.append(names.index(name.casefold()))
        counts = epoch.segment_counts()
        unsegmented = int((epoch.profile_array() == 0).sum())
        users = [*counts, unsegmented]
        return cell_at(epoch, rows[0], rows[1]), users[rows[0]], users[rows[1]]

    def matrix_verdicts(self, tenant: str) -> tuple[list[str], list[str], list[int]]:
        """Rows, each row's verdicts as ``"1"`` (allowed) / ``"0"`` characters, and users
        per row: the matrix without explanations (at 500 segments, 251,001 reasons would
        be most of the work), read from the epoch's arrays only."""
        epoch = self.current(tenant).epoch
        counts = epoch.segment_counts()
        unsegmented = int((epoch.profile_array() == 0).sum())
        return row_names(epoch), allowed_rows(epoch), [*counts, unsegmented]

    def overview(self, tenant: str) -> dict[str, Any]:
        """The tenant at a glance (the web page's overview): mode, users, segmented and
        unsegmented counts, conflicts, the epoch in force, whether the definitions differ
        from what is applied, and the licensing findings (§2): segmented users without
        ``INFORMATION_BARRIERS`` (or Exchange), service accounts without
        ``MICROSOFT_REMOTE_ASSIST``."""
        with self.ctx.tenant_tx(tenant, "", write=False) as tx:
            current = self.epochs.current(tx)
            licenses = tx.repos.licenses.load()
            defined = tx.repos.barriers.load()
            mode = tx.tenant.mode.value
            search_restricted = tx.tenant.people_search_restriction
        epoch = current.epoch
        facts = people(epoch, current.directory)  # once per epoch, not per request
        segmented = np.array([bool(p) for p in epoch.profiles], dtype=np.bool_)[
            epoch.profile_array()
        ]
        found = Findings(epoch, segmented, facts.service, licenses)

        def decisive(config: BarrierConfig) -> tuple[object, ...]:
            return (
                sorted((s.name.casefold(), s.filter) for s in config.segments),
                sorted(
                    (
                        p.name.casefold(),
                        p.segment.casefold(),
                        p.kind.value,
                        tuple(sorted(n.casefold() for n in p.segments)),
                    )
                    for p in config.policies
                    if p.is_active
                ),
            )

        counts = epoch.segment_counts()
        return {
            "tenant": tenant,
            "mode": mode,
            "people_search_restriction": search_restricted,
            "users": {
                "total": len(epoch),
                "enabled": int(facts.enabled.sum()),
                "guests": int(facts.guest.sum()),
                "service_accounts": int(facts.service.sum()),
            },
            "segmented": int(segmented.sum()),
            "unsegmented": len(epoch) - int(segmented.sum()),
            "conflicts": [
                {"upn": epoch.upns[i], "segments": list(epoch.segments_of(i))}
                for i in epoch.conflicts()
            ],
            "epoch": current.epoch_id,
            "applied": {
                "mode": epoch.mode.value,
                "segments": [
                    {
                        "name": s.name,
                        "users": counts[k],
                        "policy": (p.name if (p := epoch.policy_of(k)) else None),
                    }
                    for k, s in enumerate(epoch.config.segments)
                ],
                "active_policies": len(epoch.config.policies),
            },
            "defined": {
                "segments": len(defined.segments),
                "policies": len(defined.policies),
                "active_policies": sum(p.is_active for p in defined.policies),
            },
            "pending_changes": decisive(defined) != decisive(epoch.config),
            "findings": found,
        }

    def lookup(self, tenant: str, query: str, limit: int = 10) -> list[User]:
        """Users for whom every word of ``query`` starts a word of the display name, the UPN
        or the mail, case-insensitively, ordered by display name. No barrier applies: this
        is the admin page's user picker, not a user's search (§7)."""
        prefixes = query.casefold().split()
        if not prefixes:
            raise InvalidInput("the search text is empty")
        current = self.current(tenant)
        epoch, directory = current.epoch, current.directory

        def user_at(i: int) -> User:
            return directory.user(epoch.user_ids[i])

        # The search index (built once per epoch), not a scan of every user per keystroke.
        return [user_at(i) for i in current.search().lookup(user_at, prefixes, limit)]
