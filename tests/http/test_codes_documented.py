"""Every code is documented once in docs/semantics.md §10, and the adapters' tables (HTTP
statuses, CLI exit codes) say what the documentation says."""

from __future__ import annotations

import re
from pathlib import Path

from infobarrier.cli.output import Exit, exit_code_for
from infobarrier.core.codes import ApplicationState, ErrorCode, VerdictCode
from infobarrier.http.errors import status_for

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
