"""The one error of the PowerShell format: where in the script, and what was wrong."""

from __future__ import annotations

from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import InvalidInput


class ScriptError(InvalidInput):
    """A script that cannot be imported, naming the 1-based line and column at fault.

    ``detail`` is the message without the position. When the error comes from a rule of
    the core (a :class:`~infobarrier.core.errors.RuleViolation`, ``NotFound`` or
    ``FilterSyntaxError``), ``cause_code`` is that error's ``code`` and ``rule`` the
    rule it names, if any; for a syntax error of the script both are ``None``.
    """

    code = ErrorCode.SCRIPT_ERROR

    def __init__(
        self,
        line: int,
        column: int,
        message: str,
        *,
        cause_code: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.detail = message
        self.cause_code = cause_code
        self.rule = rule
        super().__init__(f"line {line}, column {column}: {message}")
