"""Where decisions come from: the store in-process, or a running ``infobarrier serve``.

Both deciders answer the same questions (:class:`Decider`). Callbacks never wait on a
database: the in-process decider answers from a :class:`~infobarrier_synapse.gate.Gate`
(the epoch in force, held in memory) and a background poll swaps in a new gate when the
tenant's version moves. While the store or service cannot be reached, ``on_unavailable``
decides: ``deny`` refuses everything with ``infobarrier_unavailable``; ``last_known`` keeps
answering from the last epoch (or the last answers) it had, and denies what it never saw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import httpx

from infobarrier.core.contract import Action
from infobarrier.core.decisions import pairs_for
from infobarrier.core.reconcile import Compatible
from infobarrier.service.wiring import Services, build
from infobarrier_synapse.config import ModuleConfig, OnUnavailable, UnknownUsers
from infobarrier_synapse.gate import ALLOWED, Decision, Gate, split_user_id, unavailable

log = logging.getLogger(__name__)

#: Runs a blocking function off the homeserver's event loop (Synapse: ``defer_to_thread``).
Threads = Callable[..., Awaitable[Any]]

#: §8's relation for a room of one action (wall-crossing exceptions open pairs by action).
Relation = Callable[[Action | None], Compatible]

#: The actor of every audit entry the module writes.
ACTOR = "synapse"


class Decider(Protocol):
    """The questions the module's callbacks ask."""

    async def check(self, action: Action, sender: str, others: Sequence[str]) -> Decision:
        """A §7 check with all the pairs ``action`` needs."""

    async def newcomer(self, action: Action, newcomer: str, members: Sequence[str]) -> Decision:
        """The newcomer with every member already there."""

    async def separated(self, members: Sequence[str], action: Action | None = None) -> Decision:
        """Refused when two members are no longer compatible (awaiting reconciliation);
        ``action``: the room's communication, which wall-crossing exceptions may open."""

    async def hidden(self, searcher: str, user_id: str) -> bool:
        """Is ``user_id`` left out of ``searcher``'s directory search?"""

    async def refresh(self) -> bool:
        """Follow changes; True when rooms should be reconciled now."""

    async def relation(
        self,
        rooms_members: Sequence[Sequence[str]],
        actions: Sequence[Action | None] | None = None,
    ) -> Relation | None:
        """§8's relation for reconciling these rooms, by the room's communication
        (``actions``: each room's, in the same order, when known); ``None``: cannot decide
        now."""

    def upn_of(self, user_id: str) -> str:
        """A Matrix user's UPN (for audit entries and reasons)."""

    async def audit(self, kind: str, detail: dict[str, Any]) -> None:
        """Append to the tenant's audit log (or the homeserver's log, when it cannot)."""


class LocalDecider:
    """Decides in-process from the store (``database:``), following the tenant's version."""

    def __init__(self, config: ModuleConfig, server_name: str, threads: Threads) -> None:
        assert config.database is not None
        self.config = config
        self.server_name = server_name
        self.threads = threads
        self.services: Services | None = None
        self.gate: Gate | None = None
        #: Why the store cannot be used right now (``None``: it can).
        self.problem: str | None = "not loaded yet"
        self._first = False

    # -- following changes ------------------------------------------------------------------
    def _load(self) -> Gate | None:
        """Open the store (first time), read the tenant's version, compile if it moved."""
        if self.services is None:
            assert self.config.database is not None
            self.services = build(self.config.database)
        state = self.services.store.tenant_state(self.config.tenant)
        if state is None:
            raise LookupError(f"tenant {self.config.tenant!r} does not exist in the store")
        _tenant_id, version, _restricted = state
        held = self.gate
        if held is not None and held.version == version:
            if held.moved():  # an exception's window started or ended: reconcile (§11)
                return held.renewed()
            return None
        current, restricted, version = self.services.decisions.snapshot(self.config.tenant)
        return Gate(
            current.epoch,
            restricted,
            version,
            self.config,
            self.server_name,
            current.exceptions,
            self.services.decisions.ctx.clock,
        )

    def load_now(self) -> None:
        """The first load, before the homeserver takes requests (a failure is recorded, and
        the polls retry)."""
        try:
            fresh = self._load()
        except Exception as exc:
            self._failed(exc)
            return
        self.gate = fresh
        self.problem = None
        self._first = True  # the next poll reconciles: rooms may have drifted while down

    def _failed(self, exc: Exception) -> None:
        problem = f"store unreachable: {type(exc).__name__}: {exc}"[:300]
        if problem != self.problem:
            log.warning("infobarrier: %s", problem)
        self.problem = problem

    async def refresh(self) -> bool:
        """One poll: True when a new epoch is in force (or the store is back)."""
        try:
            fresh = await self.threads(self._load)
        except Exception as exc:
            self._failed(exc)
            return False
        was_down = self.problem is not None or self._first
        self.problem = None
        self._first = False
        if fresh is not None:
            self.gate = fresh
            return True
        return was_down

    def _gate(self) -> Gate | None:
        """The gate to answer from, or ``None`` when the answer must be a refusal."""
        if self.problem is None or self.config.on_unavailable is OnUnavailable.LAST_KNOWN:
            return self.gate
        return None

    def _down(self, action: str = "") -> Decision:
        return unavailable(self.problem or "no epoch loaded", action)

    # -- decisions --------------------------------------------------------------------------
    async def check(self, action: Action, sender: str, others: Sequence[str]) -> Decision:
        gate = self._gate()
        return self._down(action.value) if gate is None else gate.check(action, sender, others)

    async def newcomer(self, action: Action, newcomer: str, members: Sequence[str]) -> Decision:
        gate = self._gate()
        if gate is None:
            return self._down(action.value)
        return gate.newcomer(action, newcomer, members)

    async def separated(self, members: Sequence[str], action: Action | None = None) -> Decision:
        gate = self._gate()
        return self._down() if gate is None else gate.separated(members, action)

    async def hidden(self, searcher: str, user_id: str) -> bool:
        gate = self._gate()
        return searcher != user_id if gate is None else gate.hidden(searcher, user_id)

    async def relation(
        self,
        rooms_members: Sequence[Sequence[str]],
        actions: Sequence[Action | None] | None = None,
    ) -> Relation | None:
        gate = self._gate()
        return None if gate is None else gate.compatible

    def upn_of(self, user_id: str) -> str:
        localpart, server = split_user_id(user_id)
        if server != self.server_name:
            return user_id
        return self.config.upn_of(localpart, server)

    async def audit(self, kind: str, detail: dict[str, Any]) -> None:
        services = self.services

        def write() -> None:
            assert services is not None
            with services.decisions.ctx.tenant_tx(self.config.tenant, ACTOR) as tx:
                tx.audit(kind, **detail)

        if services is None:
            log.warning("infobarrier: not audited (no store): %s %s", kind, detail)
            return
        try:
            await self.threads(write)
        except Exception:
            log.exception("infobarrier: could not audit %s %s", kind, detail)


#: url mode: how long a room's "separated" answer is reused (one request per room and
#: second instead of one per message).
ROOM_ANSWER_SECONDS = 1.0

#: Codes that keep a user from acting but remove them from nothing (semantics §8).
NOT_SEPARATING = frozenset({"account_disabled", "policy_conflict", "hidden", "same_user"})

#: Error codes of a user the tenant's directory does not hold (``unknown_users`` decides).
UNKNOWN_USER = frozenset({"unknown_user", "not_found"})


def asked(action: Action | None) -> str:
    """The action a pair is asked with over HTTP (one one-pair check per pair): the room's or
    the callback's own, so an exception opens what it names, as in-process (§11). Two
    exceptions: ``add-team-member`` is decided by the service only for a stored team (its
    teams API), so a space's pairs are asked as ``chat``; an unknown action (``None``) too."""
    if action is None or action is Action.ADD_TEAM_MEMBER:
        return Action.CHAT.value
    return action.value


class RemoteDecider:
    """Asks ``POST /v1/tenants/{tenant}/decisions`` of a running service (``url:``).

    Every pair is its own one-pair check, so an unknown user is an error item about that
    pair alone (``unknown_users`` then decides). Audit entries go to
    ``POST .../audit/events`` (enforcement events, which an enforcer token may record).
    """

    def __init__(
        self,
        config: ModuleConfig,
        server_name: str,
        threads: Threads,
        client: httpx.Client | None = None,
    ) -> None:
        """``client``: one rooted at ``{url}/v1/tenants/{tenant}`` with the token (by default
        made from the configuration)."""
        assert config.url is not None
        assert config.token is not None
        self.config = config
        self.server_name = server_name
        self.threads = threads
        self.client = client or httpx.Client(
            base_url=f"{config.url}/v1/tenants/{config.tenant}",
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=config.timeout_seconds,
        )
        #: Last answers per (action, from, to), for ``on_unavailable: last_known``.
        self.known: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.problem: str | None = None
        #: ``separated`` answers per set of members (see ``ROOM_ANSWER_SECONDS``).
        self._rooms: dict[tuple[frozenset[str], str], tuple[float, Decision]] = {}

    def upn_of(self, user_id: str) -> str:
        localpart, server = split_user_id(user_id)
        if server != self.server_name:
            return user_id
        return self.config.upn_of(localpart, server)

    def _post(self, checks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        body = {"checks": [{"action": a, "from": f, "to": [t]} for a, f, t in checks]}
        response = self.client.post("/decisions", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        results = response.json()["results"]
        if not isinstance(results, list) or len(results) != len(checks):
            raise RuntimeError("the service answered a different number of checks")
        return results

    async def _ask(self, checks: list[tuple[str, str, str]]) -> list[dict[str, Any]] | Decision:
        """Answers in order, or the refusal that stands for all of them while unreachable."""
        if not checks:
            return []
        try:
            results: list[dict[str, Any]] = await self.threads(self._post, checks)
        except Exception as exc:
            self.problem = f"service unreachable: {type(exc).__name__}: {exc}"[:300]
            log.warning("infobarrier: %s", self.problem)
            if self.config.on_unavailable is OnUnavailable.LAST_KNOWN:
                old = [self.known.get(c) for c in checks]
                if all(o is not None for o in old):
                    return [o for o in old if o is not None]
            return unavailable(self.problem)
        self.problem = None
        if len(self.known) > 100_000:
            self.known.clear()
        self.known.update(zip(checks, results, strict=True))
        return results

    def _first_refusal(
        self, action: Action, checks: list[tuple[str, str, str]], results: list[dict[str, Any]]
    ) -> Decision:
        """The first barrier refusal; else the first unknown-user refusal; else allowed."""
        unknown: Decision | None = None
        for (_a, sender, other), result in zip(checks, results, strict=True):
            error = result.get("error")
            if error is not None:
                if error.get("code") in UNKNOWN_USER:
                    if unknown is None and self.config.unknown_users is UnknownUsers.DENY:
                        unknown = Decision(
                            False,
                            "unknown_user",
                            f"{error.get('message')}: not in tenant {self.config.tenant!r}'s "
                            "directory, and unknown users are denied",
                            action.value,
                        )
                    continue
                return Decision(False, str(error.get("code")), str(error.get("message")))
            if not result.get("allowed"):
                pair = result.get("pair")
                return Decision(
                    False,
                    str(result.get("code")),
                    str(result.get("reason")),
                    action.value,
                    result.get("policy"),
                    result.get("segment"),
                    (pair[0], pair[1]) if pair else (self.upn_of(sender), self.upn_of(other)),
                )
        return unknown or ALLOWED

    def _local(self, user_id: str) -> bool:
        return split_user_id(user_id)[1] == self.server_name

    def _remote_user(self, user_id: str, action: Action) -> Decision:
        if self.config.unknown_users is UnknownUsers.ALLOW:
            return ALLOWED
        return Decision(
            False,
            "unknown_user",
            f"{user_id} is a user of another server, not in tenant "
            f"{self.config.tenant!r}'s directory, and unknown users are denied",
            action.value,
        )

    async def _pairs(self, action: Action, pairs: list[tuple[str, str]]) -> Decision:
        checks = []
        foreign: Decision | None = None
        for a, b in pairs:
            if self._local(a) and self._local(b):
                checks.append((asked(action), self.upn_of(a), self.upn_of(b)))
            elif foreign is None:
                foreign = self._remote_user(a if not self._local(a) else b, action)
        answered = await self._ask(checks)
        if isinstance(answered, Decision):
            return Decision(False, answered.code, answered.reason, action.value)
        decision = self._first_refusal(action, checks, answered)
        if decision.allowed and foreign is not None:
            return foreign
        return decision

    async def check(self, action: Action, sender: str, others: Sequence[str]) -> Decision:
        people = list(dict.fromkeys(o for o in others if o != sender))
        if not people:
            return ALLOWED
        indices = pairs_for(action, 0, list(range(1, len(people) + 1)))
        everyone = [sender, *people]
        return await self._pairs(action, [(everyone[i], everyone[j]) for i, j in indices])

    async def newcomer(self, action: Action, newcomer: str, members: Sequence[str]) -> Decision:
        pairs = [(newcomer, m) for m in dict.fromkeys(members) if m != newcomer]
        return await self._pairs(action, pairs)

    async def separated(self, members: Sequence[str], action: Action | None = None) -> Decision:
        key = (frozenset(members), asked(action))
        now = time.monotonic()
        held = self._rooms.get(key)
        if held is not None and now - held[0] < ROOM_ANSWER_SECONDS:
            return held[1]
        answer = await self._separated(members, action)
        if len(self._rooms) > 10_000:
            self._rooms.clear()
        if answer.code != "infobarrier_unavailable":
            self._rooms[key] = (now, answer)
        return answer

    async def _separated(self, members: Sequence[str], action: Action | None) -> Decision:
        found = await self._relation([members], [action])
        if found is None:
            return unavailable(self.problem or "service unreachable")
        relations, undecided = found
        relation = relations(action)
        local = [m for m in members if self._local(m)]
        for k, a in enumerate(local):
            for b in local[k + 1 :]:
                if (a, b) in undecided or (b, a) in undecided:
                    ua, ub = self.upn_of(a), self.upn_of(b)
                    return unavailable(f"the service could not decide {ua} and {ub}")
                if not relation(a, b):
                    ua, ub = self.upn_of(a), self.upn_of(b)
                    return Decision(
                        False,
                        "room_separated",
                        f"{ua} and {ub} are in this room but are no longer compatible "
                        "(segments and policies); nothing new is said or started here until "
                        "one of them has been removed",
                        pair=(ua, ub),
                    )
        return ALLOWED

    async def hidden(self, searcher: str, user_id: str) -> bool:
        if searcher == user_id:
            return False
        return not (await self.check(Action.SEARCH, searcher, [user_id])).allowed

    async def refresh(self) -> bool:
        """Without a version to follow, every poll reconciles (asking each room's pairs)."""
        return True

    async def relation(
        self,
        rooms_members: Sequence[Sequence[str]],
        actions: Sequence[Action | None] | None = None,
    ) -> Relation | None:
        """Each pair of a room asked once with the room's action (:func:`asked`), so that
        an exception keeps two people in a room when it names that action, as in-process
        (§11). ``relation(None)``: compatible for every action asked. A pair the service
        answers with an error other than an unknown user is kept compatible here:
        reconciliation removes people only on a decided incompatibility, never on an error
        (a room with such a pair is refused new activity instead: :meth:`separated`)."""
        found = await self._relation(rooms_members, actions)
        return None if found is None else found[0]

    async def _relation(
        self,
        rooms_members: Sequence[Sequence[str]],
        actions: Sequence[Action | None] | None = None,
    ) -> tuple[Relation, set[tuple[str, str]]] | None:
        """:meth:`relation`, and the pairs of users the service could not decide."""
        pairs: dict[tuple[str, str, str], bool] = {}
        for k, members in enumerate(rooms_members):
            question = asked(actions[k] if actions is not None else None)
            local = sorted({m for m in members if self._local(m)})
            for i, a in enumerate(local):
                for b in local[i + 1 :]:
                    pairs[(a, b, question)] = True
        order = list(pairs)
        checks = [(question, self.upn_of(a), self.upn_of(b)) for a, b, question in order]
        answered = await self._ask(checks)
        if isinstance(answered, Decision):
            return None
        every: dict[tuple[str, str], bool] = {}
        undecided: set[tuple[str, str]] = set()
        for key, result in zip(order, answered, strict=True):
            error = result.get("error")
            if error is None:
                pairs[key] = bool(result.get("allowed")) or result.get("code") in NOT_SEPARATING
            elif error.get("code") not in UNKNOWN_USER:  # an unknown user: compatible (§8)
                undecided.add(key[:2])
            every[key[:2]] = every.get(key[:2], True) and pairs[key]
        frozen = dict(pairs)

        def relation(action: Action | None) -> Compatible:
            if action is None:
                return lambda a, b: every.get((a, b) if a < b else (b, a), True)
            question = asked(action)

            def compatible(a: str, b: str) -> bool:
                return frozen.get((a, b, question) if a < b else (b, a, question), True)

            return compatible

        return relation, undecided

    def _record(self, kind: str, detail: dict[str, Any]) -> None:
        response = self.client.post("/audit/events", json={"kind": kind, "detail": detail})
        if response.status_code != 201:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

    async def audit(self, kind: str, detail: dict[str, Any]) -> None:
        """Record in the tenant's audit log (``POST .../audit/events``; the actor is the
        token's person, else the token). If that fails, Synapse's log has the entry and the
        module keeps going."""
        try:
            await self.threads(self._record, kind, detail)
        except Exception as exc:
            log.warning(
                "infobarrier: could not audit in the tenant's log (%s: %s): %s %s",
                type(exc).__name__,
                exc,
                kind,
                detail,
            )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
