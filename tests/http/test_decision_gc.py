"""The cyclic garbage collector is paused while a decision batch is answered (``POST
/decisions`` and AuthZEN ``evaluations``, on the event loop or in the thread pool) and is
back as it was afterwards, also when answering fails (service/gc_pause.py;
docs/decisions.md, "The collector paused while a decision batch is answered")."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from infobarrier.core import answer_columns, answers
from infobarrier.http.routes import authzen, decisions
from live_server import AppClient


class Spy:
    """The answering functions of the routes (``answer_parts``, and ``answer_batch`` of
    the column path) noting whether the collector was on, and possibly failing."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[bool] = []
        self.fail = fail

    def wrap(self, answering: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            self.seen.append(gc.isenabled())
            if self.fail:
                raise RuntimeError("answering failed")
            return answering(*args, **kwargs)

        return spied


@pytest.fixture
def collector_on() -> Iterator[None]:
    """The collector on before each test (as in any process), and after it whatever happens."""
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


def _spy(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> Spy:
    spy = Spy(fail)
    for route in (decisions, authzen):
        monkeypatch.setattr(route, "answer_parts", spy.wrap(answers.answer_parts))
        monkeypatch.setattr(route, "answer_batch", spy.wrap(answer_columns.answer_batch))
    return spy


def _native(client: AppClient, n: int) -> Any:
    checks = [
        {"action": "chat", "from": f"a{i}@abc.example", "to": ["b@abc.example"]} for i in range(n)
    ]
    return client.http.post(
        "/v1/tenants/abc/decisions",
        json={"checks": checks},
        headers=client.headers("abc", "enforcer"),
    )


def _evaluations(client: AppClient, n: int) -> Any:
    items = [{"subject": {"type": "user", "id": f"a{i}@abc.example"}} for i in range(n)]
    body = {
        "action": {"name": "chat"},
        "resource": {"type": "user", "id": "b@abc.example"},
        "evaluations": items,
    }
    return client.http.post(
        "/access/v1/evaluations", json=body, headers=client.headers("abc", "enforcer")
    )


def _answered(response: Any, n: int) -> Sequence[Any]:
    assert response.status_code == 200, response.text
    data = response.json()
    found = data["results"] if "results" in data else data["evaluations"]
    assert len(found) == n
    return found  # type: ignore[no-any-return]


@pytest.mark.usefixtures("collector_on")
@pytest.mark.parametrize("send", [_native, _evaluations], ids=["decisions", "evaluations"])
@pytest.mark.parametrize("threaded", [False, True], ids=["event-loop", "thread-pool"])
def test_the_collector_is_off_while_a_batch_is_answered_and_back_after(
    app_client: AppClient, monkeypatch: pytest.MonkeyPatch, send: Any, threaded: bool
) -> None:
    if threaded:  # every batch goes to the thread pool
        settings = dataclasses.replace(app_client.services.settings, inline_pairs=0)
        monkeypatch.setattr(app_client.services, "settings", settings)
        monkeypatch.setattr(authzen, "INLINE_EVALUATIONS", 0)
    spy = _spy(monkeypatch)
    _answered(send(app_client, 5), 5)
    assert spy.seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
@pytest.mark.parametrize("send", [_native, _evaluations], ids=["decisions", "evaluations"])
def test_the_collector_is_back_when_answering_fails(
    app_client: AppClient, monkeypatch: pytest.MonkeyPatch, send: Any
) -> None:
    spy = _spy(monkeypatch, fail=True)
    with pytest.raises(RuntimeError, match="answering failed"):
        send(app_client, 3)
    assert spy.seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
@pytest.mark.parametrize("send", [_native, _evaluations], ids=["decisions", "evaluations"])
def test_a_refused_body_leaves_the_collector_on(app_client: AppClient, send: Any) -> None:
    """A body refused while it is read (too many items) never reaches the answering."""
    if send is _native:
        response = app_client.http.post(
            "/v1/tenants/abc/decisions",
            json={"checks": "nope"},
            headers=app_client.headers("abc", "enforcer"),
        )
        assert response.status_code == 422
    else:
        response = app_client.http.post(
            "/access/v1/evaluations",
            json={"evaluations": "nope"},
            headers=app_client.headers("abc", "enforcer"),
        )
        assert response.status_code == 400
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(
    app_client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that turned the collector off itself keeps it off after a batch."""
    spy = _spy(monkeypatch)
    was = gc.isenabled()
    gc.disable()
    try:
        _answered(_native(app_client, 2), 2)
        _answered(_evaluations(app_client, 2), 2)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
    assert spy.seen == [False, False]
