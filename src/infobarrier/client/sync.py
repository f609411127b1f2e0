"""The blocking client (``httpx.Client``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from infobarrier.client.core import (
    USER,
    DecisionCache,
    Plan,
    check_status,
    decisions_of,
    entity,
    evaluation,
    page_of,
    search_body,
    unavailable_page,
)
from infobarrier.client.model import (
    Decision,
    OnUnavailable,
    Question,
    SearchPage,
    Semantic,
    Unavailable,
)

_FAILED = (httpx.TransportError, Unavailable)


class Client:
    """An enforcement point's client of one tenant: AuthZEN decisions with a cache that
    follows the tenant's decision state, searches, and our own API.

    ``base_url`` is the server root (``https://ib.example``); ``token`` an enforcer token
    of ``tenant``. ``on_unavailable`` says what the decision methods answer while the
    service cannot be reached (``deny`` or ``last_known``); every :class:`Decision` says
    where it came from (``source``). ``cache_size=0`` turns the cache off; ``max_lag``
    (seconds) lets the cache trust the last decision state read for that long instead of
    reading it before each use (0: never stale). ``transport`` is for tests and proxies.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        tenant: str,
        *,
        timeout: float = 5.0,
        on_unavailable: OnUnavailable = "deny",
        cache_size: int = 10_000,
        max_lag: float = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if on_unavailable not in ("deny", "last_known"):
            raise ValueError("on_unavailable must be 'deny' or 'last_known'")
        self.tenant = tenant
        self.on_unavailable: OnUnavailable = on_unavailable
        self.cache = DecisionCache(cache_size, max_lag)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- decisions -------------------------------------------------------------------------
    def evaluate(
        self,
        subject: str,
        action: str,
        resource: str | None = None,
        *,
        members: Sequence[str] | None = None,
    ) -> Decision:
        """May ``subject`` (a UPN) do ``action`` with ``resource`` (a UPN), or with the
        ``members`` of a conversation? Never raises for an outage: see ``source``."""
        return self._decide([Question(subject, action, resource, members)], single=True)[0]

    def evaluate_many(
        self, questions: Sequence[Question], *, semantic: Semantic = "execute_all"
    ) -> list[Decision]:
        """Many questions in one request, answers in order (cached ones are not asked
        again). ``deny_on_first_deny`` / ``permit_on_first_permit`` stop at the first
        deny / permit and return only the answers up to it; they bypass the cache."""
        if semantic != "execute_all":
            return self._short_circuit(questions, semantic)
        return self._decide(questions, single=False)

    def _decide(self, questions: Sequence[Question], *, single: bool) -> list[Decision]:
        plan = Plan(questions)
        cache = self.cache
        if cache.size and plan.cached_any(cache):
            if not cache.fresh(time.monotonic()):
                try:
                    self.version()
                except _FAILED:
                    plan.fail(cache, self.on_unavailable)
                    return plan.result()
            plan.from_cache(cache)
        positions = plan.missing()
        if positions:
            asked = time.monotonic()
            try:
                if single:
                    response = self._http.post(
                        "/access/v1/evaluation", json=evaluation(plan.questions[0])
                    )
                else:
                    body = {"evaluations": [evaluation(plan.questions[i]) for i in positions]}
                    response = self._http.post("/access/v1/evaluations", json=body)
                found, state = decisions_of(response)
            except _FAILED:
                plan.fail(cache, self.on_unavailable)
                return plan.result()
            cache.learn(state, asked)
            plan.take_live(cache, positions, found, state)
        return plan.result()

    def _short_circuit(self, questions: Sequence[Question], semantic: Semantic) -> list[Decision]:
        plan = Plan(questions)
        body = {
            "evaluations": [evaluation(q) for q in questions],
            "options": {"evaluations_semantic": semantic},
        }
        try:
            found, state = decisions_of(self._http.post("/access/v1/evaluations", json=body))
        except _FAILED:
            plan.fail(self.cache, self.on_unavailable)
            return plan.result()
        plan.take_live(self.cache, range(len(found)), found, state)
        return plan.result()[: len(found)]

    # -- searches --------------------------------------------------------------------------
    def search_resources(
        self, subject: str, action: str, *, limit: int | None = None, token: str = ""
    ) -> SearchPage:
        """The people ``subject`` may reach with ``action`` (the people picker), a page at
        a time: pass the page's ``next_token`` for the next (with the same ``limit``)."""
        body = search_body({"type": USER, "id": subject}, action, {"type": USER}, limit, token)
        return self._search("/access/v1/search/resource", body, "id")

    def search_subjects(
        self,
        action: str,
        resource: str | None = None,
        *,
        members: Sequence[str] | None = None,
        limit: int | None = None,
        token: str = "",
    ) -> SearchPage:
        """The people who may do ``action`` with ``resource`` (a UPN) or with the
        ``members`` of a conversation, a page at a time."""
        body = search_body({"type": USER}, action, entity(resource, members), limit, token)
        return self._search("/access/v1/search/subject", body, "id")

    def search_actions(
        self, subject: str, resource: str | None = None, *, members: Sequence[str] | None = None
    ) -> SearchPage:
        """The actions ``subject`` may use with ``resource`` or a conversation's members."""
        body = search_body({"type": USER, "id": subject}, None, entity(resource, members), None, "")
        return self._search("/access/v1/search/action", body, "name")

    def _search(self, path: str, body: dict[str, Any], field: str) -> SearchPage:
        try:
            return page_of(self._http.post(path, json=body), field)
        except _FAILED:
            return unavailable_page()

    # -- our own API (raise Unavailable on an outage) --------------------------------------
    def version(self) -> str:
        """The tenant's decision state now (an opaque string; answers given at the same
        state still hold). Also refreshes the cache's knowledge of it."""
        asked = time.monotonic()
        response = self._get(f"/v1/tenants/{self.tenant}/version")
        state = str(response.json()["stamp"])
        self.cache.learn(state, asked)
        return state

    def decisions(self, checks: Sequence[tuple[str, str, Sequence[str]]]) -> list[dict[str, Any]]:
        """``POST /decisions``: ``(action, from, to)`` checks answered in order by verdict
        objects (or ``{"error": ...}`` in place). Not cached."""
        body = {"checks": [{"action": a, "from": f, "to": list(t)} for a, f, t in checks]}
        response = self._send("POST", f"/v1/tenants/{self.tenant}/decisions", json=body)
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def relationship(self, a: str, b: str) -> dict[str, Any]:
        """Are two users compatible, and why (the verdict object)."""
        response = self._get(f"/v1/tenants/{self.tenant}/relationship", params={"a": a, "b": b})
        found: dict[str, Any] = response.json()
        return found

    def configuration(self) -> dict[str, Any]:
        """The AuthZEN metadata (``/.well-known/authzen-configuration``)."""
        found: dict[str, Any] = self._get("/.well-known/authzen-configuration").json()
        return found

    def _get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._send("GET", path, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unavailable(f"{method} {path}: {exc}") from exc
        check_status(response)
        return response
