"""The client's logic without I/O: request bodies, answers, and the decision cache.

The cache holds answers with the decision state (``X-Infobarrier-Version``) they were
given at; an answer is used only while that state is still the tenant's. The state is
known from every live answer and from ``GET /v1/tenants/{tenant}/version`` (one SQL
statement on the server); with ``max_lag=0`` (the default) the state is read before any
cached answer is used, so a cached answer never outlives a change. ``max_lag > 0``
trusts the state last read for that many seconds: fewer round trips, an answer at most
that old. Entries of an older state are not used as answers, but are kept (bounded,
least recently used first out) as the *last known* answer for the ``last_known``
failure mode.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import httpx

from infobarrier.client.model import (
    ClientError,
    Decision,
    OnUnavailable,
    Question,
    SearchPage,
    Unavailable,
)

VERSION_HEADER = "X-Infobarrier-Version"
USER, CONVERSATION = "user", "conversation"

Key = tuple[str, str, str, tuple[str, ...]]


def key_of(q: Question) -> Key:
    """The cache key of a question (UPNs folded as the service folds them)."""
    people = (q.resource,) if q.members is None else tuple(q.members)
    return (
        q.action.strip().lower(),
        q.subject.strip().casefold(),
        USER if q.members is None else CONVERSATION,
        tuple((p or "").strip().casefold() for p in people),
    )


def entity(resource: str | None, members: Sequence[str] | None) -> dict[str, Any]:
    """The AuthZEN resource: a user, or a conversation with its members."""
    if members is not None:
        if isinstance(members, str):
            raise TypeError("members must be a sequence of UPNs, not one string")
        return {"type": CONVERSATION, "properties": {"members": list(members)}}
    if resource is None:
        raise TypeError("give a resource UPN or the members of a conversation")
    return {"type": USER, "id": resource}


def evaluation(q: Question) -> dict[str, Any]:
    """One evaluation object."""
    return {
        "subject": {"type": USER, "id": q.subject},
        "action": {"name": q.action},
        "resource": entity(q.resource, q.members),
    }


def check_status(response: httpx.Response) -> None:
    """Raise :class:`Unavailable` for 5xx, :class:`ClientError` for other errors."""
    status = response.status_code
    if status < 400:
        return
    if status >= 500:
        raise Unavailable(f"the service answered {status}")
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = body.get("message", body)
    raise ClientError(status, str(body))


def decisions_of(response: httpx.Response) -> tuple[list[dict[str, Any]], str | None]:
    """The decision objects of an evaluations answer and the state it was given at."""
    check_status(response)
    body = response.json()
    found = body.get("evaluations")
    if found is None:
        found = [body]
    return list(found), response.headers.get(VERSION_HEADER)


def page_of(response: httpx.Response, field: str) -> SearchPage:
    """A search answer as a page of ``field`` values (``id`` or ``name``)."""
    check_status(response)
    body = response.json()
    page = body.get("page") or {}
    return SearchPage(
        [str(r[field]) for r in body.get("results", [])],
        str(page.get("next_token", "")),
        page.get("total"),
        "live",
        dict(body.get("context") or {}),
    )


def unavailable_page() -> SearchPage:
    """What a search answers while the service is unreachable: nobody, nothing."""
    return SearchPage([], "", None, "unavailable", {"error": _outage()})


def search_body(
    subject: dict[str, Any],
    action: str | None,
    resource: dict[str, Any],
    limit: int | None,
    token: str,
) -> dict[str, Any]:
    """A search request."""
    body: dict[str, Any] = {"subject": subject, "resource": resource}
    if action is not None:
        body["action"] = {"name": action}
    page: dict[str, Any] = {}
    if limit is not None:
        page["limit"] = limit
    if token:
        page["token"] = token
    if page:
        body["page"] = page
    return body


def _outage() -> dict[str, Any]:
    return {
        "status": 503,
        "code": "unavailable",
        "message": "the decision service could not be reached: denied",
    }


class DecisionCache:
    """Answers by question, with the state they hold at; bounded, least recently used out."""

    def __init__(self, size: int, max_lag: float) -> None:
        if size < 0 or max_lag < 0:
            raise ValueError("cache_size and max_lag must not be negative")
        self.size = size
        self.max_lag = max_lag
        self._entries: OrderedDict[Key, tuple[bool, dict[str, Any], str]] = OrderedDict()
        self.state: str | None = None
        self.state_at = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)

    def learn(self, state: str | None, now: float) -> None:
        """The tenant's decision state as of ``now``."""
        if state is not None:
            self.state = state
            self.state_at = now

    def fresh(self, now: float) -> bool:
        """Whether the known state may be trusted without asking (``max_lag``)."""
        return self.state is not None and now - self.state_at <= self.max_lag and self.max_lag > 0

    def current(self, key: Key) -> Decision | None:
        """The cached answer if it was given at the known state."""
        found = self._entries.get(key)
        if found is None or found[2] != self.state:
            return None
        self._entries.move_to_end(key)
        return Decision(found[0], "cache", found[1], found[2])

    def last_known(self, key: Key) -> Decision | None:
        """The last answer known for the question, whatever its state."""
        found = self._entries.get(key)
        if found is None:
            return None
        return Decision(found[0], "last_known", found[1], found[2])

    def holds(self, key: Key) -> bool:
        """Whether any answer is kept for the question."""
        return key in self._entries

    def put(self, key: Key, decision: bool, context: dict[str, Any], state: str | None) -> None:
        """Keep a live answer (answers without a state are not kept)."""
        if state is None or self.size == 0:
            return
        self._entries[key] = (decision, context, state)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer and the known state."""
        self._entries.clear()
        self.state = None
        self.state_at = float("-inf")


def fallback(cache: DecisionCache, mode: OnUnavailable, key: Key) -> Decision:
    """The answer to give while the service is unreachable."""
    if mode == "last_known":
        found = cache.last_known(key)
        if found is not None:
            return found
    return Decision(False, "unavailable", {"error": _outage()}, None)


def live(found: dict[str, Any], state: str | None) -> Decision:
    """A decision object of the service as a live answer."""
    context = found.get("context")
    return Decision(
        bool(found.get("decision") is True),
        "live",
        dict(context) if isinstance(context, dict) else {},
        state,
    )


class Plan:
    """Which questions of a batch the cache answers, and which go to the service."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self.keys = [key_of(q) for q in questions]
        self.questions = list(questions)
        self.answers: list[Decision | None] = [None] * len(questions)

    def from_cache(self, cache: DecisionCache) -> None:
        """Fill in what the cache answers at the known state."""
        for i, key in enumerate(self.keys):
            if self.answers[i] is None:
                self.answers[i] = cache.current(key)

    def missing(self) -> list[int]:
        """Positions still unanswered."""
        return [i for i, a in enumerate(self.answers) if a is None]

    def cached_any(self, cache: DecisionCache) -> bool:
        """Whether the cache holds an answer (of any state) for any question."""
        return any(cache.holds(k) for k in self.keys)

    def take_live(
        self,
        cache: DecisionCache,
        positions: Sequence[int],
        found: Sequence[dict[str, Any]],
        state: str | None,
    ) -> None:
        """Record the service's answers for these positions (in order)."""
        for i, item in zip(positions, found, strict=False):
            answer = live(item, state)
            self.answers[i] = answer
            cache.put(self.keys[i], answer.decision, answer.context, state)

    def fail(self, cache: DecisionCache, mode: OnUnavailable) -> None:
        """Answer the rest by the failure mode."""
        for i in self.missing():
            self.answers[i] = fallback(cache, mode, self.keys[i])

    def result(self) -> list[Decision]:
        """Every answer, in order."""
        return [a if a is not None else Decision(False, "unavailable") for a in self.answers]


TRANSPORT_ERRORS = (httpx.TransportError,)
