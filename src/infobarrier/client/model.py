"""What the client sends and returns: questions, decisions, search pages, errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

#: Where an answer came from: asked now (``live``), the cache at the current decision
#: state (``cache``), the last answer known while the service is unreachable
#: (``last_known``), or nothing: the service is unreachable and the answer is a deny
#: (``unavailable``).
Source = Literal["live", "cache", "last_known", "unavailable"]

#: What to answer while the service is unreachable: deny everything (``deny``, the
#: default), or give the last answer known for the same question (``last_known``; a
#: question never answered is still denied).
OnUnavailable = Literal["deny", "last_known"]

#: ``options.evaluations_semantic`` of the AuthZEN evaluations API.
Semantic = Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"]


class Question(NamedTuple):
    """May ``subject`` do ``action`` with ``resource`` (a UPN), or with the ``members`` of
    a conversation (group chat, meeting invite, call, share screen, add to team)?"""

    subject: str
    action: str
    resource: str | None = None
    members: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """One answer. ``decision`` is what to enforce; ``context`` is the service's verdict
    (``code``, ``reason``, ``pair``, ``policy``, ``segment``) or ``{"error": {...}}``."""

    decision: bool
    source: Source
    context: dict[str, Any] = field(default_factory=dict)
    #: The tenant's decision state the answer was given at (``None``: no answer).
    version: str | None = None

    @property
    def code(self) -> str | None:
        """The verdict's code (``blocked_by_policy``, ``permitted`` ...), or the error's."""
        error = self.error
        if error is not None:
            return str(error.get("code")) if error.get("code") is not None else None
        code = self.context.get("code")
        return None if code is None else str(code)

    @property
    def reason(self) -> str | None:
        """The sentence that explains the verdict (or the error's message)."""
        error = self.error
        if error is not None:
            return str(error.get("message", ""))
        reason = self.context.get("reason")
        return None if reason is None else str(reason)

    @property
    def error(self) -> dict[str, Any] | None:
        """Why the question could not be answered, if it could not."""
        error = self.context.get("error")
        return error if isinstance(error, dict) else None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a search: UPNs (or action names), the token of the next page ("" at
    the end) and the total; ``source`` is ``live`` or ``unavailable`` (then empty)."""

    results: list[str]
    next_token: str
    total: int | None
    source: Source
    context: dict[str, Any] = field(default_factory=dict)


class ClientError(Exception):
    """The service refused the request itself (400 bad request, 401, 403, 404): a
    mistake in the question or the token, not an outage, so it is raised."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Unavailable(Exception):
    """The service could not be reached or answered 5xx (raised by the methods of our own
    API; the decision methods answer by the failure mode instead)."""
