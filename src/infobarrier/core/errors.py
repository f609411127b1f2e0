"""Errors of the core, each with a stable machine-readable ``code``.

Adapters map these to exit codes (CLI: 2) and HTTP statuses; the message is written
for a person and names what was wrong (a filter's position, the rule a policy breaks).
"""

from __future__ import annotations

from infobarrier.core.codes import Code, ErrorCode


class InfobarrierError(Exception):
    """Base of every error the engine raises on purpose."""

    code: Code = ErrorCode.ERROR

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidInput(InfobarrierError):
    """Bad input that names what is wrong; nothing was changed."""

    code = ErrorCode.INVALID_INPUT


class FilterSyntaxError(InvalidInput):
    """A ``UserGroupFilter`` that does not parse (semantics §3).

    ``position`` is 1-based, counted in characters of the filter text.
    """

    code = ErrorCode.FILTER_SYNTAX

    def __init__(self, message: str, position: int, text: str) -> None:
        self.position = position
        self.text = text
        self.detail = message
        super().__init__(f"filter error at column {position}: {message}")


class TooLarge(InvalidInput):
    """A request bigger than a documented limit (``core.limits``; HTTP 413)."""

    code = ErrorCode.TOO_LARGE


class RuleViolation(InvalidInput):
    """A segment, policy or tenant setting that breaks a rule of semantics §1, §3 or §4.

    ``rule`` is a stable identifier such as ``policy.one_per_segment``.
    """

    code = ErrorCode.RULE_VIOLATION

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"{message} [rule {rule}]")


class NotFound(InfobarrierError):
    """A named object (tenant, user, segment, policy, application) does not exist."""

    code = ErrorCode.NOT_FOUND


class Conflict(InfobarrierError):
    """The request clashes with the current state (an apply already running, a duplicate)."""

    code = ErrorCode.CONFLICT


class LicensingError(InfobarrierError):
    """A license rule of semantics §2 refuses the change (seats, guests)."""

    code = ErrorCode.LICENSING


class Refused(InfobarrierError):
    """The collaboration service refused an action (semantics §7): barrier or licensing.

    ``status`` is 403 for the HTTP API; ``policy``, ``segment`` and ``pair`` say who
    decided, as in a verdict.
    """

    code = ErrorCode.REFUSED
    status = 403

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        policy: str | None = None,
        segment: str | None = None,
        pair: tuple[str, str] | None = None,
        kind: str = "barrier",
    ) -> None:
        super().__init__(message, code=code)
        self.policy = policy
        self.segment = segment
        self.pair = pair
        self.kind = kind


class Busy(InfobarrierError):
    """The store's write lock could not be had in time; nothing was changed, try again."""

    code = ErrorCode.BUSY

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        #: Seconds after which trying again is sensible (HTTP ``Retry-After``).
        self.retry_after = retry_after
