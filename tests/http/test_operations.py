"""Operations: /metrics, /readyz and the one-line-per-request log, on a real server."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from http_builders import running_server, standard_tenant, upn
from prometheus_client.multiprocess import MultiProcessCollector

from infobarrier.http.app import create_app
from infobarrier.http.logs import JsonFormatter, TextFormatter, log_config, use_json
from infobarrier.service.wiring import Services, build
from live_server import LiveServer, make_tokens, start_server, stop_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    directory = tmp_path_factory.mktemp("ops")
    with running_server(directory, seed=standard_tenant) as server:
        yield server, directory / "server.log"


def _metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {line_start} in:\n{text}")


def test_metrics_count_decisions_latency_scim_and_tenant_state(
    served: tuple[LiveServer, Path],
) -> None:
    server, _log = served
    enforcer = {"Authorization": f"Bearer {server.tokens[('abc', 'enforcer')]}"}
    checks = [
        {"action": "chat", "from": upn("s1"), "to": [upn("s2")]},
        {"action": "chat", "from": upn("s1"), "to": [upn("r1")]},
        {"action": "chat", "from": upn("s1"), "to": ["ghost@abc.example"]},
    ]
    mixed = [*checks, {"action": "call", "from": upn("s1"), "to": [upn("o1")]}]
    base = server.base
    with httpx.Client(base_url=base, headers=enforcer, timeout=30) as c:
        assert c.post("/v1/tenants/abc/decisions", json={"checks": checks}).status_code == 200
        assert c.post("/v1/tenants/abc/decisions", json={"checks": mixed}).status_code == 200
        body = {
            "subject": {"type": "user", "id": upn("s1")},
            "action": {"name": "share-screen"},
            "evaluations": [{"resource": {"type": "user", "id": upn(n)}} for n in ("s2", "r1")],
        }
        assert c.post("/access/v1/evaluations", json=body).status_code == 200
    provisioner = {"Authorization": f"Bearer {server.tokens[('abc', 'provisioner')]}"}
    assert (
        httpx.get(f"{base}/scim/v2/abc/Users", headers=provisioner, timeout=30).status_code == 200
    )
    scraped = httpx.get(f"{base}/metrics", timeout=30)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    decisions = "infobarrier_decisions_total"
    assert _metric(text, f'{decisions}{{action="chat",outcome="allow"}}') == 2
    assert _metric(text, f'{decisions}{{action="chat",outcome="deny"}}') == 2
    assert _metric(text, f'{decisions}{{action="chat",outcome="error"}}') == 2
    assert _metric(text, f'{decisions}{{action="call",outcome="allow"}}') == 1
    assert _metric(text, f'{decisions}{{action="share-screen",outcome="allow"}}') == 1
    assert _metric(text, f'{decisions}{{action="share-screen",outcome="deny"}}') == 1
    route = 'route="/v1/tenants/{tenant}/decisions"'
    assert _metric(text, f'infobarrier_request_seconds_count{{method="POST",{route}}}') == 2
    assert _metric(text, 'infobarrier_scim_requests_total{method="GET",status="200"}') >= 1
    assert _metric(text, 'infobarrier_epoch_in_force{tenant="abc"}') >= 1
    assert _metric(text, 'infobarrier_epoch_age_seconds{tenant="abc"}') >= 0
    assert _metric(text, 'infobarrier_audit_chain_length{tenant="abc"}') > 10
    assert _metric(text, 'infobarrier_application_percent{tenant="abc"}') == -1
    version = _metric(text, 'infobarrier_tenant_version{tenant="abc"}')
    assert version >= 1
    assert 'infobarrier_loaded_version{tenant="abc",worker=' in text


def test_ready_once_the_epochs_are_loaded(served: tuple[LiveServer, Path]) -> None:
    server, _log = served
    found = httpx.get(f"{server.base}/readyz", timeout=30)
    assert found.status_code == 200
    assert found.json()["status"] == "ready"
    assert httpx.get(f"{server.base}/healthz", timeout=30).status_code == 200


def test_not_ready_until_the_app_has_loaded_them(services: Services) -> None:
    make_tokens(services, ["abc"])
    app = create_app(services)
    cold = TestClient(app)  # the lifespan (which loads the epochs) has not run
    assert cold.get("/readyz").status_code == 503
    assert cold.get("/readyz").json()["status"] == "loading"
    with TestClient(app) as warm:
        deadline = time.monotonic() + 30
        while warm.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.05)


def test_one_json_line_per_request(served: tuple[LiveServer, Path]) -> None:
    server, log = served
    headers = {
        "Authorization": f"Bearer {server.tokens[('abc', 'enforcer')]}",
        "X-Request-ID": "trace-42",
    }
    body = {
        "subject": {"type": "user", "id": upn("s1")},
        "action": {"name": "chat"},
        "resource": {"type": "user", "id": upn("s2")},
    }
    httpx.post(f"{server.base}/access/v1/evaluation", json=body, headers=headers, timeout=30)
    httpx.get(f"{server.base}/v1/tenants/abc/version", headers=headers, timeout=30)
    deadline = time.monotonic() + 10
    lines: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        lines = []
        for raw in log.read_text().splitlines():
            if raw.startswith("{"):
                entry = json.loads(raw)
                if entry.get("request_id") == "trace-42":
                    lines.append(entry)
        if len(lines) == 2:
            break
        time.sleep(0.1)
    assert [e["route"] for e in lines] == [
        "/access/v1/evaluation",
        "/v1/tenants/{tenant}/version",
    ]
    for entry in lines:
        assert entry["tenant"] == "abc"  # from the token, or from the path
        assert entry["status"] == 200
        assert isinstance(entry["latency_ms"], float)
        assert entry["logger"] == "infobarrier.access"


def test_text_in_a_terminal_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("INFOBARRIER_LOG_FORMAT", raising=False)
    assert use_json(io.StringIO()) is True
    assert use_json(Terminal()) is False
    monkeypatch.setenv("INFOBARRIER_LOG_FORMAT", "text")
    assert use_json(io.StringIO()) is False
    assert "TextFormatter" in log_config()["formatters"]["default"]["()"]
    record = logging.LogRecord("infobarrier.access", logging.INFO, "", 0, "GET /x 200", (), None)
    record.tenant, record.status, record.request_id = "abc", 200, "r1"
    assert json.loads(JsonFormatter().format(record))["tenant"] == "abc"
    text = TextFormatter().format(record)
    assert "GET /x 200" in text
    assert "tenant=abc" in text
    assert "request_id=r1" in text


def _decisions_by_worker(directory: Path) -> dict[str, float]:
    """Decisions each worker counted, read from its own multiprocess file."""
    found: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.split("_", 1)[1]
        for metric in MultiProcessCollector.merge([str(path)]):
            if metric.name == "infobarrier_decisions":
                found[pid] = sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return found


def test_metrics_under_workers_add_up_every_workers_counts(tmp_path: Path) -> None:
    """``serve --workers 2``: requests served by both workers, and every scrape, whichever
    worker answers it, counts all of them; the metrics directory serve made is gone after."""
    db_url = f"sqlite:///{tmp_path / 'workers.db'}"
    services = build(db_url)
    try:
        tokens = make_tokens(services, ["abc"])
        standard_tenant(services, "abc")
    finally:
        services.store.dispose()
    log = tmp_path / "server.log"
    process, base = start_server(db_url, log, workers=2, timeout=180)
    try:
        named = re.search(r"their metrics in (\S+)", log.read_text())
        assert named is not None, log.read_text()
        directory = Path(named.group(1))
        assert directory.is_dir()
        headers = {"Authorization": f"Bearer {tokens[('abc', 'enforcer')]}"}
        body = {"checks": [{"action": "chat", "from": upn("s1"), "to": [upn("s2")]}]}

        def decide(_: int) -> int:  # a connection per request, as a load balancer spreads
            answer = httpx.post(
                f"{base}/v1/tenants/abc/decisions", json=body, headers=headers, timeout=60
            )
            return answer.status_code

        sent = 0
        with ThreadPoolExecutor(4) as pool:
            while sent < 4000:
                assert set(pool.map(decide, range(40))) == {200}
                sent += 40
                if len([n for n in _decisions_by_worker(directory).values() if n > 0]) >= 2:
                    break
        by_worker = _decisions_by_worker(directory)
        assert len([n for n in by_worker.values() if n > 0]) == 2, by_worker
        assert sum(by_worker.values()) == sent

        def scrape(_: int) -> tuple[str, float]:
            text = httpx.get(f"{base}/metrics", timeout=60).text
            worker = re.search(r'infobarrier_loaded_version\{tenant="abc",worker="(\d+)"\}', text)
            assert worker is not None, text
            total = _metric(text, 'infobarrier_decisions_total{action="chat",outcome="allow"}')
            return worker.group(1), total

        answered: set[str] = set()
        with ThreadPoolExecutor(4) as pool:
            for _ in range(50):
                for worker, total in pool.map(scrape, range(8)):
                    assert total == sent  # every worker's decisions, from either worker
                    answered.add(worker)
                if len(answered) == 2:
                    break
        assert answered == set(by_worker)
    finally:
        stop_server(process)
    assert not directory.exists()
