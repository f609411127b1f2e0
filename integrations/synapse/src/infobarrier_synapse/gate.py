"""Decisions about Matrix users against one epoch, in-process (semantics §6, §7, §8).

A :class:`Gate` is an epoch in force seen through the module's configuration: it maps
Matrix user ids to the tenant's users (``user_id_to_upn``), applies ``unknown_users``, and
answers with a :class:`Decision` that a callback turns into a refusal. It does no I/O: the
decider that owns it swaps in a new gate when the tenant's version moves.

Wall-crossing exceptions (semantics §11) are read with the epoch and applied by the clock
at each decision: a block they open is allowed for the actions they name, from their start
and until their end, without waiting for the next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infobarrier.core.contract import Action
from infobarrier.core.decisions import compatibility, pairs_for
from infobarrier.core.epoch import Epoch
from infobarrier.core.exceptions import ActiveExceptions, ExceptionIndex
from infobarrier.core.reconcile import Compatible, policy_compatible
from infobarrier.store.records import utcnow
from infobarrier_synapse.config import ModuleConfig, UnknownUsers


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed or not, a stable ``code`` and a sentence; what decided, when a policy did."""

    allowed: bool
    code: str
    reason: str
    action: str = ""
    policy: str | None = None
    segment: str | None = None
    pair: tuple[str, str] | None = None

    def body(self) -> dict[str, Any]:
        """The fields a refusal adds to Synapse's ``M_FORBIDDEN`` response body."""
        return {
            "infobarrier": {
                "code": self.code,
                "reason": self.reason,
                "action": self.action,
                "policy": self.policy,
                "segment": self.segment,
                "pair": list(self.pair) if self.pair else None,
            }
        }


ALLOWED = Decision(True, "allowed", "no barrier applies")


def unavailable(reason: str, action: str = "") -> Decision:
    """The refusal while the store or service cannot be reached (``on_unavailable: deny``)."""
    return Decision(
        False,
        "infobarrier_unavailable",
        f"the information barrier cannot be checked ({reason}); refused until it can",
        action,
    )


def split_user_id(user_id: str) -> tuple[str, str]:
    """``(localpart, server_name)`` of ``@localpart:server_name``."""
    localpart, _, server = user_id.removeprefix("@").partition(":")
    return localpart, server


class Gate:
    """One epoch in force, with the configuration that maps Matrix users onto it."""

    def __init__(
        self,
        epoch: Epoch,
        people_search_restriction: bool,
        version: int,
        config: ModuleConfig,
        server_name: str,
        exceptions: ExceptionIndex | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``exceptions``: the tenant's approved exceptions (read with the epoch);
        ``clock``: what time it is (UTC), for their windows."""
        self.epoch = epoch
        self.restricted = people_search_restriction
        self.version = version
        self.config = config
        self.server_name = server_name
        self._allow_unknown = config.unknown_users is UnknownUsers.ALLOW
        self._index: dict[str, int | None] = {}
        self._policy = policy_compatible(epoch)
        self.exceptions = exceptions if exceptions else None
        self.clock = clock
        #: How many window starts and ends had passed when the gate was made (see
        #: :meth:`moved`).
        self.passed = self.exceptions.passed(clock()) if self.exceptions else 0

    def renewed(self) -> Gate:
        """The same gate, made now (after :meth:`moved`)."""
        return Gate(
            self.epoch,
            self.restricted,
            self.version,
            self.config,
            self.server_name,
            self.exceptions,
            self.clock,
        )

    def openings(self) -> ActiveExceptions | None:
        """The exceptions active now (``None``: none approved)."""
        return self.exceptions.at(self.clock()) if self.exceptions else None

    def moved(self) -> bool:
        """Has an exception's window started or ended since the gate was made? Decisions
        already follow the clock; rooms must then be reconciled (§8, §11)."""
        return self.exceptions is not None and self.exceptions.passed(self.clock()) != self.passed

    # -- users ----------------------------------------------------------------------------
    def upn(self, user_id: str) -> str | None:
        """The UPN a local Matrix user stands for; ``None`` for another server's user."""
        localpart, server = split_user_id(user_id)
        if server != self.server_name or not localpart:
            return None
        return self.config.upn_of(localpart, server)

    def index(self, user_id: str) -> int | None:
        """The user's index in the epoch, or ``None`` when the directory does not know them."""
        try:
            return self._index[user_id]
        except KeyError:
            upn = self.upn(user_id)
            found = None if upn is None else self.epoch.index_of(upn)
            if len(self._index) > 100_000:
                self._index.clear()
            self._index[user_id] = found
            return found

    def _unknown(self, user_id: str, action: str) -> Decision:
        upn = self.upn(user_id)
        where = f"as {upn}" if upn else "a user of another server"
        return Decision(
            False,
            "unknown_user",
            f"{user_id} ({where}) is not in tenant {self.config.tenant!r}'s directory, "
            "and unknown users are denied",
            action,
        )

    def _resolve(
        self, action: str, users: Iterable[str], skip: str | None = None
    ) -> tuple[list[int], Decision | None]:
        """Indices of the known ``users`` (without ``skip`` and repeats), and the refusal an
        unknown one brings (``None`` when unknown users are allowed, or there is none).

        Callers look at the known users first: a barrier refusal says more than "unknown".
        """
        found: list[int] = []
        seen: set[str] = set()
        refusal: Decision | None = None
        for user_id in users:
            if user_id == skip or user_id in seen:
                continue
            seen.add(user_id)
            i = self.index(user_id)
            if i is None:
                if refusal is None and not self._allow_unknown:
                    refusal = self._unknown(user_id, action)
                continue
            found.append(i)
        return found, refusal

    # -- decisions ------------------------------------------------------------------------
    def check(self, action: Action, sender: str, others: Sequence[str]) -> Decision:
        """A check of §7: ``sender`` does ``action`` with ``others`` (all pairs it needs)."""
        s = self.index(sender)
        if s is None:
            return ALLOWED if self._allow_unknown else self._unknown(sender, action.value)
        known, unknown = self._resolve(action.value, others, skip=sender)
        known = list(dict.fromkeys(i for i in known if i != s))
        if not known:
            return unknown or ALLOWED
        if action is Action.SEARCH and not self.restricted:
            return unknown or ALLOWED
        allowed = self.epoch.allowed
        openings = None
        for a, b in pairs_for(action, s, known):
            if not allowed(a, b):  # only a block builds its verdict and sentence
                if openings is None:
                    openings = self.openings()
                verdict = compatibility(self.epoch, a, b, action=action, openings=openings)
                if not verdict.allowed:  # else opened by an exception (§11)
                    break
        else:
            return unknown or ALLOWED
        return Decision(
            verdict.allowed,
            verdict.code,
            verdict.reason,
            action.value,
            verdict.policy,
            verdict.segment,
            verdict.pair,
        )

    def hidden(self, searcher: str, user_id: str) -> bool:
        """Directory search: is ``user_id`` left out of ``searcher``'s results?

        The same answer as ``check(SEARCH, ...)``, as a bare boolean (one per result).
        """
        if searcher == user_id:
            return False
        s, u = self.index(searcher), self.index(user_id)
        if s is None or u is None:
            return not self._allow_unknown
        if not self.restricted or self.epoch.allowed(s, u):
            return False
        openings = self.openings()
        if openings is None:
            return True
        return not compatibility(self.epoch, s, u, action=Action.SEARCH, openings=openings).allowed

    def newcomer(self, action: Action, newcomer: str, members: Iterable[str]) -> Decision:
        """The group rule of §7: the newcomer with every member already there."""
        n = self.index(newcomer)
        if n is None:
            return ALLOWED if self._allow_unknown else self._unknown(newcomer, action.value)
        known, unknown = self._resolve(action.value, members, skip=newcomer)
        epoch = self.epoch
        openings = None
        for m in known:
            if m != n and not epoch.allowed(n, m):
                if openings is None:
                    openings = self.openings()
                verdict = compatibility(epoch, n, m, action=action, openings=openings)
                if verdict.allowed:  # opened by an exception (§11)
                    continue
                return Decision(
                    False,
                    verdict.code,
                    verdict.reason,
                    action.value,
                    verdict.policy,
                    verdict.segment,
                    verdict.pair,
                )
        return unknown or ALLOWED

    def separated(self, members: Sequence[str], action: Action | None = None) -> Decision:
        """Refused when two members are no longer compatible (segments and policies, §8),
        and no active exception opens them for the room's ``action`` (§11).

        Such a room waits for reconciliation to remove one of them; until then nothing new
        is said or started in it. Users the directory does not know separate nobody.
        """
        compatible = self._widened(action)
        ids = [self.epoch.user_ids[i] for i in self._known(members)]
        for k, a in enumerate(ids):
            for b in ids[k + 1 :]:
                if not (compatible(a, b) and compatible(b, a)):
                    ua, ub = self._upn_of_id(a), self._upn_of_id(b)
                    return Decision(
                        False,
                        "room_separated",
                        f"{ua} and {ub} are in this room but are no longer compatible "
                        "(segments and policies); nothing new is said or started here until "
                        "one of them has been removed",
                        pair=(ua, ub),
                    )
        return ALLOWED

    def _known(self, members: Iterable[str]) -> list[int]:
        found = []
        for user_id in members:
            i = self.index(user_id)
            if i is not None:
                found.append(i)
        return found

    def _upn_of_id(self, user_id: str) -> str:
        i = self.epoch.index_of_id(user_id)
        return self.epoch.upns[i] if i is not None else user_id

    def _widened(self, action: Action | None) -> Compatible:
        """§8's relation over user ids, with the pairs the exceptions active now open for
        ``action`` (``None``: the relation without exceptions)."""
        openings = self.openings() if action is not None else None
        if openings is None:
            return self._policy
        assert action is not None
        return openings.widen(self.epoch, self._policy, action)

    def compatible(self, action: Action | None = None) -> Compatible:
        """§8's relation over Matrix user ids (an unknown user is compatible with everyone),
        widened by the exceptions active now for a room of ``action`` (§11)."""
        policy = self._widened(action)
        ids = self.epoch.user_ids

        def relation(a: str, b: str) -> bool:
            i, j = self.index(a), self.index(b)
            if i is None or j is None:
                return True
            return policy(ids[i], ids[j])

        return relation
