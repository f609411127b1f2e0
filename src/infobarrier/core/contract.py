"""The decision contract (semantics §6, §7): a check, its verdict, and the one check parser.

Every adapter (CLI ``check``, HTTP ``/decisions`` and ``/relationship``, the web page)
reads checks with the functions here and writes verdicts with :meth:`Verdict.as_dict`,
so the same check gets the same object with the same field names everywhere.

A check is the JSON object ``{"action": ..., "from": ..., "to": [...]}`` itself (a typed
dict: the parser validates the objects a JSON decoder made and hands them on, without
copying; the batch hot path depends on that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired

import orjson
from typing_extensions import TypedDict

from infobarrier.core.codes import Code, ErrorCode, VerdictCode
from infobarrier.core.errors import InvalidInput, TooLarge
from infobarrier.core.limits import MAX_PAIRS_PER_REQUEST


class Action(StrEnum):
    """The communications of §7 (``add-team-member`` needs a team: see the service)."""

    SEARCH = "search"
    CHAT = "chat"
    GROUP_CHAT = "group-chat"
    MEETING_INVITE = "meeting-invite"
    SHARE_SCREEN = "share-screen"
    CALL = "call"
    ADD_TEAM_MEMBER = "add-team-member"
    SHARE_FILE = "share-file"


_ACTIONS = {a.value: a for a in Action}


def parse_action(text: str) -> Action:
    """An action by name, or a clear error listing the valid ones."""
    found = _ACTIONS.get(text) or _ACTIONS.get(text.strip().lower())
    if found is None:
        valid = ", ".join(a.value for a in Action)
        raise InvalidInput(f"unknown action {text!r}: expected one of {valid}")
    return found


#: Actions that need every pair among the recipients too, not only sender-recipient (§7).
ALL_PAIRS = frozenset({Action.GROUP_CHAT, Action.MEETING_INVITE, Action.CALL})


def pairs_required(action: str, recipients: int) -> int:
    """How many pairs a check of ``action`` with this many recipients requires (§7),
    without building them: ``n`` pairs with the sender, plus ``n(n-1)/2`` among the
    recipients for group chats, meetings and calls. An unknown action counts ``n``."""
    n = recipients
    if n < 2:
        return n
    found = _ACTIONS.get(action) or _ACTIONS.get(action.strip().lower())
    return n + n * (n - 1) // 2 if found in ALL_PAIRS else n


#: One question: may ``from`` do ``action`` with ``to``? (``from`` is a Python keyword,
#: hence the functional form.) ``context`` is reserved for facts about the request that a
#: future rule may read; no rule reads it yet, so the parser refuses it.
Check = TypedDict(
    "Check",
    {
        "action": str,
        "from": str,
        "to": list[str],
        "context": NotRequired[dict[str, Any]],
    },
)

#: The fields a check may have today, and their limits.
CHECK_FIELDS = ("action", "from", "to")
_FIELD_SET = frozenset(CHECK_FIELDS)
MAX_ACTION = 32
MAX_UPN = 320
MAX_TO = 10_000


def make_check(action: str, sender: str, to: Sequence[str]) -> Check:
    """A check built by a program (the CLI's arguments, the web page's query)."""
    return {"action": action, "from": sender, "to": list(to)}


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision and why. ``pair`` names the two users the reason is about.

    ``exception`` and ``exception_end`` name a wall-crossing exception that allowed the
    pair and when it ends; they appear in the JSON only when one applied.
    """

    allowed: bool
    code: VerdictCode
    reason: str
    pair: tuple[str, str] | None = None
    policy: str | None = None
    segment: str | None = None
    exception: str | None = None
    exception_end: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        """The verdict object of docs/interfaces.md: the one shape every adapter answers with."""
        data: dict[str, object] = {
            "allowed": self.allowed,
            "reason": self.reason,
            "code": self.code.value,
            "pair": list(self.pair) if self.pair else None,
            "policy": self.policy,
            "segment": self.segment,
        }
        if self.exception is not None:
            data["exception"] = self.exception
            end = self.exception_end
            data["exception_end"] = end.isoformat() if end is not None else None
        return data


#: The fields of :meth:`Verdict.as_dict`, in order (without the exception fields).
VERDICT_FIELDS = ("allowed", "reason", "code", "pair", "policy", "segment")


@dataclass(frozen=True, slots=True)
class CheckError:
    """A bad check, answered in its place (a batch goes on with the next one)."""

    code: Code
    message: str

    def as_dict(self) -> dict[str, object]:
        """``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code.value, "message": self.message}}


def check_problem(item: object) -> str | None:
    """What keeps ``item`` (a decoded JSON value) from being a :class:`Check`, or ``None``."""
    if not isinstance(item, dict):
        return 'expected a JSON object {"action": ..., "from": ..., "to": [...]}'
    if item.keys() != _FIELD_SET:  # compared in C; the usual check has exactly these
        unknown = sorted(str(k) for k in item if k not in CHECK_FIELDS)
        if unknown:
            return f"field(s) not permitted: {', '.join(unknown)}"
        missing = [f for f in CHECK_FIELDS if f not in item]
        if missing:
            return f"missing field(s): {', '.join(missing)}"
    action, sender, to = item["action"], item["from"], item["to"]
    if not isinstance(action, str) or not 0 < len(action) <= MAX_ACTION:
        return f"'action' must be a string of 1 to {MAX_ACTION} characters"
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_UPN:
        return f"'from' must be a UPN (a string of 1 to {MAX_UPN} characters)"
    if not isinstance(to, list) or not all(isinstance(t, str) for t in to):
        return "'to' must be a list of UPNs"
    if len(to) > MAX_TO:
        return f"'to' lists {len(to)} users; at most {MAX_TO} are allowed"
    return None


def read_checks(items: list[Any], where: str = "checks") -> list[Check] | CheckError:
    """``items`` as checks (the same objects), or the error of the first that is not one.

    The test of each item is inlined (a batch of 100,000 checks passes through here);
    anything it does not accept is judged by :func:`check_problem`, so both agree.
    """
    for i, item in enumerate(items):
        if (
            type(item) is dict
            and len(item) == 3
            and type(action := item.get("action")) is str
            and 0 < len(action) <= MAX_ACTION
            and type(sender := item.get("from")) is str
            and 0 < len(sender) <= MAX_UPN
            and type(to := item.get("to")) is list
            and len(to) <= MAX_TO
            and ((len(to) == 1 and type(to[0]) is str) or all(type(t) is str for t in to))
        ):
            continue
        problem = check_problem(item)
        if problem is not None:
            return CheckError(ErrorCode.INVALID_CHECK, f"{where}[{i}]: {problem}")
    return items


def read_body(
    body: bytes | str, *, max_checks: int, max_pairs: int = MAX_PAIRS_PER_REQUEST
) -> list[Check]:
    """The checks of a request body ``{"checks": [...]}``; any fault refuses it as a whole
    (:func:`read_body_pairs` without the count)."""
    return read_body_pairs(body, max_checks=max_checks, max_pairs=max_pairs)[0]


def read_body_pairs(
    body: bytes | str, *, max_checks: int, max_pairs: int = MAX_PAIRS_PER_REQUEST
) -> tuple[list[Check], int]:
    """The checks of a request body ``{"checks": [...]}`` and the pairs of users they
    require in all; any fault refuses the body as a whole.

    Raises :class:`InvalidInput` with ``invalid_json``, ``invalid_request``,
    ``invalid_check``, ``too_many_checks``, or ``too_large`` when the checks require more
    than ``max_pairs`` pairs of users in all (counted, never built: a group chat of
    ``n`` needs ``n + n(n-1)/2``).
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", code=ErrorCode.INVALID_JSON) from None
    if type(data) is not dict:
        raise InvalidInput(
            'expected a JSON object {"checks": [...]}', code=ErrorCode.INVALID_REQUEST
        )
    unknown = sorted(k for k in data if k != "checks")
    if unknown:
        raise InvalidInput(
            f"field(s) not permitted: {', '.join(unknown)}", code=ErrorCode.INVALID_REQUEST
        )
    items = data.get("checks")
    if type(items) is not list:
        raise InvalidInput("'checks' must be a list of checks", code=ErrorCode.INVALID_REQUEST)
    if len(items) > max_checks:
        raise InvalidInput(
            f"{len(items)} checks in one request; at most {max_checks} are allowed",
            code=ErrorCode.TOO_MANY_CHECKS,
        )
    checks = read_checks(items)
    if isinstance(checks, CheckError):
        raise InvalidInput(checks.message, code=checks.code)
    total = 0
    for check in checks:
        n = len(check["to"])
        total += n if n < 2 else pairs_required(check["action"], n)
    if total > max_pairs:
        raise TooLarge(
            f"this request requires {total} pairs of users to be checked; at most "
            f"{max_pairs} per request: split it"
        )
    return checks, total


def read_lines(text: str) -> list[Check | CheckError]:
    """Checks from a text: JSON lines (one check a line; blank lines skipped), or one JSON
    array of checks. A bad line or item is an error in its place; the others are read."""
    if text.lstrip().startswith("["):
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            return [CheckError(ErrorCode.INVALID_JSON, f"the JSON array does not parse: {exc}")]
        return [_one(item, f"item {number}") for number, item in enumerate(items, start=1)]
    found: list[Check | CheckError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            found.append(CheckError(ErrorCode.INVALID_JSON, f"line {number}: {exc}"))
            continue
        found.append(_one(item, f"line {number}"))
    return found


def _one(item: object, where: str) -> Check | CheckError:
    problem = check_problem(item)
    if problem is not None:
        return CheckError(ErrorCode.INVALID_CHECK, f"{where}: {problem}")
    assert isinstance(item, dict)
    return item  # type: ignore[return-value]  # check_problem accepted its shape
