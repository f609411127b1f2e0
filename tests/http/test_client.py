"""``infobarrier.client`` against a real server: live answers, the cache that follows the
decision state, searches, our own API, and the failure modes with the server stopped."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from http_builders import ACTOR, standard_tenant, upn

from infobarrier.client import AsyncClient, Client, ClientError, Question, Unavailable
from infobarrier.service.wiring import build
from live_server import LiveServer, make_tokens, start_server, stop_server


class Counting(httpx.HTTPTransport):
    """A real transport that records the paths it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], str]]:
    """The standard tenant seeded once, in a database file each test copies."""
    db = tmp_path_factory.mktemp("seed") / "seed.db"
    services = build(f"sqlite:///{db}")
    try:
        tokens = make_tokens(services, ["abc", "other"])
        standard_tenant(services, "abc")
    finally:
        services.store.dispose()
    return db, tokens


Seed = tuple[Path, dict[tuple[str, str], str]]


@contextmanager
def _serve(directory: Path, seeded: Seed) -> Iterator[LiveServer]:
    db = directory / "live.db"
    shutil.copyfile(seeded[0], db)
    process, base = start_server(f"sqlite:///{db}", directory / "server.log")
    try:
        yield LiveServer(base, f"sqlite:///{db}", seeded[1], process)
    finally:
        stop_server(process)


@pytest.fixture
def server(tmp_path: Path, seeded: Seed) -> Iterator[LiveServer]:
    """A server of its own (tests change its directory or stop it) on a copy of the seed."""
    with _serve(tmp_path, seeded) as found:
        yield found


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, seeded: Seed) -> Iterator[LiveServer]:
    """One server for the tests that change nothing."""
    with _serve(tmp_path_factory.mktemp("shared"), seeded) as found:
        yield found


def client(server: LiveServer, **options: object) -> Client:
    return Client(server.base, server.tokens[("abc", "enforcer")], "abc", **options)  # type: ignore[arg-type]


def move(server: LiveServer, name: str, department: str) -> None:
    """Change a user's department through the services, as another process would."""
    services = build(server.db_url)
    try:
        services.directory.update_user("abc", upn(name), ACTOR, Department=department)
    finally:
        services.store.dispose()


def test_a_cached_answer_is_used_only_at_the_same_decision_state(server: LiveServer) -> None:
    transport = Counting()
    with client(server, transport=transport) as ib:
        first = ib.evaluate(upn("s1"), "chat", upn("s2"))
        transport.paths.clear()
        again = ib.evaluate(upn("s1"), "chat", upn("s2"))
        assert transport.paths == ["/v1/tenants/abc/version"]  # checked, not asked
        move(server, "s2", "Research")  # now walled off from s1
        after = ib.evaluate(upn("s1"), "chat", upn("s2"))
    assert (first.source, first.decision, first.code) == ("live", True, "permitted")
    assert (again.source, again.decision, again.context) == ("cache", True, first.context)
    assert again.version == first.version
    assert (after.source, after.decision, after.code) == ("live", False, "blocked_by_policy")
    assert after.version != first.version


def test_max_lag_trusts_the_state_read_for_that_long(server: LiveServer) -> None:
    transport = Counting()
    with client(server, transport=transport, max_lag=3600) as ib:
        ib.evaluate(upn("s1"), "chat", upn("s2"))
        transport.paths.clear()
        cached = ib.evaluate(upn("s1"), "chat", upn("s2"))
        assert transport.paths == []  # within the lag: not even the state is read
        ib.cache.state_at -= 7200  # as if an hour had passed
        move(server, "s2", "Research")
        fresh = ib.evaluate(upn("s1"), "chat", upn("s2"))
    assert cached.source == "cache"
    assert (fresh.source, fresh.decision) == ("live", False)


def test_a_batch_answers_from_the_cache_and_asks_only_the_rest(shared: LiveServer) -> None:
    transport = Counting()
    questions = [
        Question(upn("s1"), "chat", upn("s2")),
        Question(upn("s1"), "chat", upn("r1")),
        Question(upn("o1"), "group-chat", members=[upn("s1"), upn("r1")]),
        Question(upn("s1"), "chat", upn("ghost")),
    ]
    with client(shared, transport=transport) as ib:
        ib.evaluate(upn("s1"), "chat", upn("r1"))
        transport.paths.clear()
        found = ib.evaluate_many(questions)
        assert transport.paths == ["/v1/tenants/abc/version", "/access/v1/evaluations"]
        again = ib.evaluate_many(questions)
    assert [a.decision for a in found] == [True, False, False, False]
    assert [a.source for a in found] == ["live", "cache", "live", "live"]
    assert found[2].context["pair"] == [upn("s1"), upn("r1")]
    assert found[3].error is not None
    assert found[3].code == "unknown_user"
    assert [a.source for a in again] == ["cache"] * 4
    assert [a.decision for a in again] == [a.decision for a in found]


def test_short_circuit_semantics_return_the_answers_up_to_the_stop(shared: LiveServer) -> None:
    questions = [Question(upn("s1"), "chat", upn(n)) for n in ("s2", "r1", "o1")]
    with client(shared) as ib:
        deny_first = ib.evaluate_many(questions, semantic="deny_on_first_deny")
        permit_first = ib.evaluate_many(questions, semantic="permit_on_first_permit")
    assert [a.decision for a in deny_first] == [True, False]
    assert [a.decision for a in permit_first] == [True]


def test_the_cache_is_bounded(shared: LiveServer) -> None:
    with client(shared, cache_size=2) as ib:
        for name in ("s2", "s3", "o1", "o2"):
            ib.evaluate(upn("s1"), "chat", upn(name))
        assert len(ib.cache) == 2
    with client(shared, cache_size=0) as ib:
        ib.evaluate(upn("s1"), "chat", upn("s2"))
        assert ib.evaluate(upn("s1"), "chat", upn("s2")).source == "live"


def test_searches_and_our_own_api(shared: LiveServer) -> None:
    with client(shared) as ib:
        seen: list[str] = []
        token = ""
        while True:
            page = ib.search_resources(upn("s1"), "chat", limit=4, token=token)
            assert page.source == "live"
            assert page.total == 6
            seen += page.results
            token = page.next_token
            if not token:
                break
        who = ib.search_subjects("group-chat", members=[upn("o1"), upn("n1")])
        actions = ib.search_actions(upn("s1"), upn("r1"))
        checks = ib.decisions([("chat", upn("s1"), [upn("r1")]), ("chat", upn("s1"), ["x"])])
        pair = ib.relationship(upn("s1"), upn("o1"))
        metadata = ib.configuration()
        state = ib.version()
    assert sorted(seen) == sorted(upn(n) for n in ("s2", "s3", "o1", "o2", "n1", "n2"))
    assert who.total == 7
    assert actions.results == []
    assert checks[0]["code"] == "blocked_by_policy"
    assert checks[1]["error"]["code"] == "unknown_user"
    assert pair["allowed"] is True
    assert metadata["policy_decision_point"] == shared.base
    assert state.count(".") == 1


def test_mistakes_are_raised_not_denied(shared: LiveServer) -> None:
    with Client(shared.base, "ib_bad_token", "abc") as ib, pytest.raises(ClientError) as info:
        ib.evaluate(upn("s1"), "chat", upn("s2"))
    assert info.value.status == 401
    with Client(shared.base, shared.tokens[("abc", "auditor")], "abc") as ib:
        with pytest.raises(ClientError) as info:
            ib.evaluate(upn("s1"), "chat", upn("s2"))
        assert info.value.status == 403
    with client(shared) as ib, pytest.raises(TypeError):
        ib.evaluate(upn("s1"), "group-chat", members=upn("s2"))
    with pytest.raises(ValueError, match="on_unavailable"):
        client(shared, on_unavailable="allow")


# -- the server goes away ------------------------------------------------------------------
def test_failure_modes_once_the_server_is_gone(server: LiveServer) -> None:
    """``deny`` denies everything; ``last_known`` gives the last answer known for the same
    question and denies the rest. Searches find nobody; our own API raises."""
    deny = client(server)
    last = client(server, on_unavailable="last_known")
    with deny, last:
        known = deny.evaluate(upn("s1"), "chat", upn("s2"))
        allowed = last.evaluate(upn("s1"), "chat", upn("s2"))
        denied = last.evaluate(upn("s1"), "chat", upn("r1"))
        stop_server(server.process)
        again = deny.evaluate(upn("s1"), "chat", upn("s2"))
        batch = deny.evaluate_many([Question(upn("s1"), "chat", upn("o1"))])
        page = deny.search_resources(upn("s1"), "chat")
        with pytest.raises(Unavailable):
            deny.version()
        with pytest.raises(Unavailable):
            deny.decisions([("chat", upn("s1"), [upn("s2")])])
        found = last.evaluate_many(
            [
                Question(upn("s1"), "chat", upn("s2")),
                Question(upn("S1"), "CHAT", upn("r1")),  # the same question, spelled otherwise
                Question(upn("s1"), "chat", upn("o1")),  # never answered
            ]
        )
    assert (known.source, known.decision) == ("live", True)
    assert (again.source, again.decision) == ("unavailable", False)
    assert again.code == "unavailable"
    assert [(a.source, a.decision) for a in batch] == [("unavailable", False)]
    assert (page.source, page.results, page.next_token) == ("unavailable", [], "")
    assert allowed.decision
    assert not denied.decision
    assert [(a.source, a.decision) for a in found] == [
        ("last_known", True),
        ("last_known", False),
        ("unavailable", False),
    ]
    assert found[0].version == allowed.version
    assert found[1].code == "blocked_by_policy"


def test_the_server_stopping_mid_run_never_raises_and_never_allows_unknowns(
    server: LiveServer,
) -> None:
    """A loop of decisions while the server stops: each answer is live, cached, or (once
    it is gone) last known or denied."""
    names = ["s2", "o1", "r1", "n1"]
    sources: list[str] = []
    with client(server, on_unavailable="last_known", timeout=2) as ib:
        for step in range(40):
            if step == 20:
                stop_server(server.process)
            name = names[step % len(names)] if step < 30 else "o2"
            answer = ib.evaluate(upn("s1"), "call", upn(name))
            sources.append(answer.source)
            if answer.source == "unavailable":
                assert answer.decision is False
            else:
                assert answer.decision is (name != "r1")
    assert set(sources[:20]) <= {"live", "cache"}
    assert set(sources[20:30]) == {"last_known"}
    assert set(sources[30:]) == {"unavailable"}  # o2 was never asked before


def test_the_async_client_does_the_same(server: LiveServer) -> None:
    async def run() -> list[tuple[str, bool]]:
        token = server.tokens[("abc", "enforcer")]
        async with AsyncClient(server.base, token, "abc", on_unavailable="last_known") as ib:
            first = await ib.evaluate(upn("s1"), "chat", upn("s2"))
            cached = await ib.evaluate(upn("s1"), "chat", upn("s2"))
            many = await ib.evaluate_many(
                [Question(upn("o1"), "call", members=[upn("s1"), upn("r1")])]
            )
            page = await ib.search_resources(upn("r1"), "chat")
            assert page.total == 5
            assert (await ib.configuration())["policy_decision_point"] == server.base
            stop_server(server.process)
            known = await ib.evaluate(upn("s1"), "chat", upn("s2"))
            unknown = await ib.evaluate(upn("s1"), "chat", upn("o1"))
            gone = await ib.search_actions(upn("s1"), upn("o1"))
            assert gone.source == "unavailable"
            with pytest.raises(Unavailable):
                await ib.version()
        return [(a.source, a.decision) for a in (first, cached, *many, known, unknown)]

    assert asyncio.run(run()) == [
        ("live", True),
        ("cache", True),
        ("live", False),
        ("last_known", True),
        ("unavailable", False),
    ]


def test_a_change_of_people_search_restriction_moves_the_state(server: LiveServer) -> None:
    """A setting that moves no tenant version still moves the state the cache keys on:
    with the restriction Disabled, ``search`` across the wall is allowed at once."""
    with client(server) as ib:
        before = ib.evaluate(upn("s1"), "search", upn("r1"))
        services = build(server.db_url)
        try:
            services.tenants.set_people_search_restriction("abc", False, ACTOR)
        finally:
            services.store.dispose()
        after = ib.evaluate(upn("s1"), "search", upn("r1"))
    assert (before.source, before.decision) == ("live", False)
    assert (after.source, after.decision, after.code) == ("live", True, "search_unrestricted")
