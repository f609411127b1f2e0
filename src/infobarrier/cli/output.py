"""Printing: Rich tables for people, JSON and CSV for programs."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from infobarrier.core.codes import Code, ErrorCode, VerdictCode


class Exit(IntEnum):
    """The CLI's exit codes (docs/semantics.md §10)."""

    OK = 0  # success, or a single check allowed
    BLOCKED = 1  # a single check refused
    ERROR = 2  # bad input, not found, a conflict: the error is on stderr
    ABORTED = 130  # interrupted


#: The exit code of every error code: each is an error the command reports on stderr.
EXIT_CODES: dict[ErrorCode, Exit] = dict.fromkeys(ErrorCode, Exit.ERROR)


def exit_code_for(code: Code) -> Exit:
    """The exit code of a command that ended with ``code`` (a refusing verdict: 1)."""
    return Exit.BLOCKED if isinstance(code, VerdictCode) else EXIT_CODES[code]


console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

FORMULA_LEADERS = ("=", "+", "-", "@")


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula (leading ``'`` added)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_LEADERS) else text


def print_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """CSV on stdout, formula-leading cells escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    sys.stdout.write(buffer.getvalue())


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A Rich table on stdout."""
    t = Table(title=title, show_lines=False)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*("" if c is None else str(c) for c in row))
    console.print(t)
