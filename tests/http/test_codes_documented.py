"""Every code is documented once in docs/semantics.md §10, and the adapters' tables (HTTP
statuses, CLI exit codes) say what the documentation says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from infobarrier.cli.output import Exit, exit_code_for
from infobarrier.core.codes import ApplicationState, ErrorCode, VerdictCode
from infobarrier.http.app import create_app
from infobarrier.http.errors import status_for
from infobarrier.service.wiring import Services
from infobarrier.web import STATIC

SEMANTICS = Path(__file__).parents[2] / "docs" / "semantics.md"


def section(title: str) -> list[list[str]]:
    """The rows of the table under ``### §10 <title>``, as lists of cells."""
    text = SEMANTICS.read_text(encoding="utf-8")
    start = text.index(f"### §10 {title}")
    end = text.find("\n#", start + 1)
    lines = [line for line in text[start:end].splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]
    assert rows, title
    return rows


def codes_in(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", cell)


def test_every_verdict_code_is_documented_once() -> None:
    documented = [code for row in section("Verdict codes") for code in codes_in(row[0])]
    assert sorted(documented) == sorted(c.value for c in VerdictCode)


def test_every_error_code_is_documented_once_with_its_status_and_exit_code() -> None:
    documented: list[str] = []
    for cells in section("Error codes"):
        http, cli = cells[1], cells[2]
        for code in codes_in(cells[0]):
            documented.append(code)
            assert status_for(ErrorCode(code)) == int(http), code
            if cli.isdigit():
                assert exit_code_for(ErrorCode(code)) == int(cli), code
    assert sorted(documented) == sorted(c.value for c in ErrorCode)


def test_a_refusing_verdict_is_403_and_exit_1() -> None:
    assert status_for(VerdictCode.BLOCKED_BY_POLICY) == 403
    assert exit_code_for(VerdictCode.BLOCKED_BY_POLICY) == Exit.BLOCKED == 1


def test_the_application_states_are_the_documented_ones() -> None:
    (row,) = [r for r in section("States") if r[0].startswith("application")]
    documented = re.findall(r"`([A-Za-z]+)`", row[1])
    assert documented == [s.value for s in ApplicationState]


def test_the_web_page_reads_states_from_the_one_enum(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        response = client.get("/web/codes.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    for enum in (ApplicationState, VerdictCode, ErrorCode):
        start = response.text.index(f"export const {enum.__name__} = Object.freeze(")
        body = response.text[start:].split("(", 1)[1].split(");", 1)[0]
        assert json.loads(body) == {m.name: m.value for m in enum}
    # No script compares with, or keys a table by, a state spelled out.
    for script in STATIC.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        for state in ApplicationState:
            for spelled in (f'= "{state.value}"', f"\n    {state.value}: "):
                assert spelled not in text, (script.name, state)
