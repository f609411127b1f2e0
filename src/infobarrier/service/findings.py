"""The overview's per-user facts and licensing findings (§2), as arrays over the epoch's users.

The overview counted and listed every finding with a pass in Python over every user and
their licenses on each request (1.1 s at 100,000 users, growing with them), though the page
shows the first hundred. Here the facts that only the directory gives (enabled, guest,
service account) are read once per epoch and kept in its derived table (a patched epoch
starts a new one), the findings are counted with numpy over those arrays and the few
licensed users, and only the entries asked for are written out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from infobarrier.core.directory import Directory, UserKind, UserType
from infobarrier.core.epoch import Epoch
from infobarrier.core.licenses import EXCHANGE, INFORMATION_BARRIERS, REMOTE_ASSIST, LicenseBook

Finding = dict[str, str]

#: The key of :class:`People` in an epoch's derived table.
PEOPLE = "overview-people"


@dataclass(frozen=True, slots=True)
class People:
    """Per user of an epoch (by index): enabled, guest, service account."""

    enabled: npt.NDArray[np.bool_]
    guest: npt.NDArray[np.bool_]
    service: npt.NDArray[np.bool_]


def people(epoch: Epoch, directory: Directory) -> People:
    """The epoch's :class:`People`, read from the directory once per epoch."""
    found: People | None = epoch.derived.get(PEOPLE)
    if found is None:
        users = [directory.user(uid) for uid in epoch.user_ids]
        n = len(users)
        found = People(
            np.fromiter((u.account_enabled for u in users), dtype=np.bool_, count=n),
            np.fromiter((u.user_type is UserType.GUEST for u in users), dtype=np.bool_, count=n),
            np.fromiter(
                (u.kind is UserKind.SERVICE_ACCOUNT for u in users), dtype=np.bool_, count=n
            ),
        )
        epoch.derived[PEOPLE] = found
    return found


class Findings(Sequence[Finding]):
    """The licensing findings in user order (for each user: ``INFORMATION_BARRIERS`` and
    ``EXCHANGE`` missing while segmented, then ``MICROSOFT_REMOTE_ASSIST`` missing for a
    service account), counted at once and written out only when read."""

    def __init__(
        self,
        epoch: Epoch,
        segmented: npt.NDArray[np.bool_],
        service: npt.NDArray[np.bool_],
        licenses: LicenseBook,
    ) -> None:
        n = len(epoch)
        held = {
            plan: np.zeros(n, dtype=np.bool_)
            for plan in (INFORMATION_BARRIERS, EXCHANGE, REMOTE_ASSIST)
        }
        for user_id in licenses.assignments:
            i = epoch.index_of_id(user_id)
            if i is None:
                continue
            plans = licenses.plans_of(user_id)
            for plan, column in held.items():
                column[i] = plan in plans
        self._upns = epoch.upns
        self._missing = np.stack(
            [
                segmented & ~held[INFORMATION_BARRIERS],
                segmented & ~held[EXCHANGE],
                service & ~held[REMOTE_ASSIST],
            ],
            axis=1,
        )
        self._ends = np.cumsum(self._missing.sum(axis=1, dtype=np.int64))

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[k] for k in range(start, stop, step)]
            return list(self._between(start, stop))
        k = index + len(self) if index < 0 else index
        if not 0 <= k < len(self):
            raise IndexError(index)
        return next(self._between(k, k + 1))

    def __iter__(self) -> Iterator[Finding]:
        return self._between(0, len(self))

    def _between(self, start: int, stop: int) -> Iterator[Finding]:
        """Findings ``start`` to ``stop`` (exclusive), reading only the users they are of."""
        if start >= stop:
            return
        user = int(np.searchsorted(self._ends, start, side="right"))
        position = int(self._ends[user - 1]) if user else 0
        while position < stop and user < len(self._ends):
            for column in np.flatnonzero(self._missing[user]).tolist():
                if start <= position < stop:
                    yield _finding(self._upns[user], column)
                position += 1
            user += 1


def _finding(upn: str, column: int) -> Finding:
    if column == 2:
        return {
            "upn": upn,
            "plan": REMOTE_ASSIST,
            "message": f"service account {upn} has no {REMOTE_ASSIST} license",
        }
    plan = (INFORMATION_BARRIERS, EXCHANGE)[column]
    return {
        "upn": upn,
        "plan": plan,
        "message": f"{upn} is segmented but has no {plan} service plan",
    }
