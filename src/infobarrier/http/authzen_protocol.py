"""The AuthZEN 1.0 request shapes, read by hand, and the answers written as JSON text.

The mapping of our model (docs/authzen.md): a subject is ``{"type": "user", "id": UPN}``;
an action is ``{"name": one of the actions of semantics §7}``; a resource is a user
(``{"type": "user", "id": UPN}``) or a conversation (``{"type": "conversation",
"properties": {"members": [UPN, ...]}}``) for the group actions. Unknown fields are
ignored, as the specification requires. A missing required field is a
:class:`BadRequest` (400); a question that is well formed but cannot be answered (an
unknown user, a type we do not decide) is a ``decision: false`` with the error in its
context, so an enforcement point always fails closed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from infobarrier.core.codes import ErrorCode
from infobarrier.core.contract import MAX_TO, Check, make_check, pairs_required
from infobarrier.core.directory import fold
from infobarrier.core.errors import TooLarge

USER, CONVERSATION = "user", "conversation"

#: The code of an item that is not a well-formed question, or of a type we do not decide
#: (its ``status`` is AuthZEN's Bad Request, 400).
INVALID = ErrorCode.INVALID_REQUEST.value

#: ``options.evaluations_semantic`` values (the first is the default).
SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")

#: Evaluations in one request (as many as ``POST /decisions`` takes checks).
MAX_EVALUATIONS = 100_000
#: Search page size: the default, and the most one page returns.
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class BadRequest(Exception):
    """A request the specification calls a Bad Request: answered 400 with the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unanswerable(Exception):
    """A well-formed question we cannot decide: ``decision: false`` with this error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def load_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or :class:`BadRequest`."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON") from None
    if type(data) is not dict:
        raise BadRequest("the request body must be a JSON object")
    return data


def _object(value: object, where: str) -> dict[str, Any]:
    if value is None:
        raise BadRequest(f"'{where}' is required")
    if type(value) is not dict:
        raise BadRequest(f"'{where}' must be an object")
    return value


def _string(entity: dict[str, Any], key: str, where: str) -> str:
    value = entity.get(key)
    if value is None:
        raise BadRequest(f"'{where}.{key}' is required")
    if type(value) is not str or not value.strip():
        raise BadRequest(f"'{where}.{key}' must be a non-empty string")
    return value


def subject_id(subject: object, where: str = "subject") -> str:
    """The UPN of a subject (its ``type`` and ``id`` are required)."""
    entity = _object(subject, where)
    kind = _string(entity, "type", where)
    upn = _string(entity, "id", where)
    if kind != USER:
        raise Unanswerable(400, INVALID, f"{where} type {kind!r}: only 'user' is decided")
    return upn


def action_name(action: object, where: str = "action") -> str:
    """The name of an action (required)."""
    return _string(_object(action, where), "name", where)


def searched_type(entity: object, where: str) -> str:
    """The ``type`` of the entity a search looks for (its ``id`` is ignored)."""
    return _string(_object(entity, where), "type", where)


def resource_people(resource: object, sender: str | None, where: str = "resource") -> list[str]:
    """The people a resource stands for: a user, or a conversation's members (less the
    sender, who is naturally one of them)."""
    entity = _object(resource, where)
    kind = _string(entity, "type", where)
    if kind == USER:
        return [_string(entity, "id", where)]
    if kind == CONVERSATION:
        properties = entity.get("properties")
        if properties is None:
            raise BadRequest(f"'{where}.properties.members' is required for a conversation")
        if type(properties) is not dict:
            raise BadRequest(f"'{where}.properties' must be an object")
        members = properties.get("members")
        if members is None:
            raise BadRequest(f"'{where}.properties.members' is required for a conversation")
        if type(members) is not list or not all(type(m) is str and m.strip() for m in members):
            raise BadRequest(f"'{where}.properties.members' must be a list of UPNs")
        if len(members) > MAX_TO:
            raise BadRequest(
                f"'{where}.properties.members' lists {len(members)} users; at most {MAX_TO}"
            )
        if sender is None:
            return list(members)
        me = fold(sender.strip())
        return [m for m in members if fold(m.strip()) != me]
    raise Unanswerable(400, INVALID, f"{where} type {kind!r}: expected 'user' or 'conversation'")


def question(subject: object, action: object, resource: object) -> Check:
    """An evaluation as our check (raises :class:`BadRequest` or :class:`Unanswerable`)."""
    name = action_name(action)
    sender = subject_id(subject)
    return make_check(name, sender, resource_people(resource, sender))


def bound(checks: Sequence[Check | str], max_pairs: int) -> None:
    """Refuse (413) a request whose questions require more pairs of users to be checked
    than one request may (``max_pairs``: the setting ``INFOBARRIER_MAX_PAIRS``), as
    ``POST /decisions`` does."""
    total = 0
    for check in checks:
        if isinstance(check, str):
            continue
        n = len(check["to"])
        total += n if n < 2 else pairs_required(check["action"], n)
    if total > max_pairs:
        raise TooLarge(
            f"this request requires {total} pairs of users to be checked; at most "
            f"{max_pairs} per request: split it"
        )


# -- answers -------------------------------------------------------------------------------
_ALLOW_PREFIX = '{"allowed":true'


def error_answer(status: int, code: str, message: str) -> str:
    """``{"decision": false, "context": {"error": ...}}`` as JSON text."""
    error = {"status": status, "code": code, "message": message}
    return orjson.dumps({"decision": False, "context": {"error": error}}).decode()


def wrap_verdict(part: str, status_of: Callable[[str], int]) -> str:
    """A verdict's JSON text (or ``{"error": ...}``) as an AuthZEN decision."""
    if part.startswith(_ALLOW_PREFIX):
        return '{"decision":true,"context":' + part + "}"
    if part.startswith('{"error"'):
        error = orjson.loads(part)["error"]
        code = str(error.get("code", ErrorCode.INVALID_INPUT.value))
        return error_answer(status_of(code), code, str(error.get("message")))
    return '{"decision":false,"context":' + part + "}"


def is_permit(answer: str) -> bool:
    """Whether a wrapped answer is a permit."""
    return answer.startswith('{"decision":true')


def cut(answers: Sequence[str], semantic: str) -> tuple[list[str], bool]:
    """The answers up to the first deny (``deny_on_first_deny``) or permit
    (``permit_on_first_permit``), and whether the evaluation stopped there."""
    if semantic == "deny_on_first_deny":
        for i, a in enumerate(answers):
            if not is_permit(a):
                return list(answers[: i + 1]), True
    elif semantic == "permit_on_first_permit":
        for i, a in enumerate(answers):
            if is_permit(a):
                return list(answers[: i + 1]), True
    return list(answers), False


def semantic_of(data: dict[str, Any]) -> str:
    """``options.evaluations_semantic`` (``execute_all`` when absent)."""
    options = data.get("options")
    if options is None:
        return SEMANTICS[0]
    if type(options) is not dict:
        raise BadRequest("'options' must be an object")
    semantic = options.get("evaluations_semantic", SEMANTICS[0])
    if semantic not in SEMANTICS:
        raise BadRequest(f"'options.evaluations_semantic' must be one of {', '.join(SEMANTICS)}")
    return str(semantic)


# -- search paging ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Page:
    """Where a search page starts: the epoch index, and how many results came before."""

    start: int
    before: int
    limit: int


def _fingerprint(data: dict[str, Any], limit: int) -> str:
    """What must not change between the pages of one search."""
    fixed = {k: data.get(k) for k in ("subject", "action", "resource", "context")}
    fixed["limit"] = limit
    return hashlib.sha256(orjson.dumps(fixed, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def page_of(data: dict[str, Any]) -> Page:
    """The ``page`` of a search request (``token`` and ``limit`` optional)."""
    page = data.get("page")
    if page is None:
        page = {}
    if type(page) is not dict:
        raise BadRequest("'page' must be an object")
    limit = page.get("limit", DEFAULT_LIMIT)
    if type(limit) is not int or limit < 0:
        raise BadRequest("'page.limit' must be a non-negative integer")
    limit = min(limit, MAX_LIMIT)
    token = page.get("token")
    if token is None or token == "":
        return Page(0, 0, limit)
    if type(token) is not str:
        raise BadRequest("'page.token' must be a string")
    try:
        fields = orjson.loads(base64.urlsafe_b64decode(token.encode() + b"=="))
        start, before, mark = int(fields["s"]), int(fields["n"]), str(fields["h"])
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise BadRequest("'page.token' is not a token this service gave") from None
    if mark != _fingerprint(data, limit) or start < 0 or before < 0:
        raise BadRequest(
            "'page.token' belongs to another request: apart from the token, a later page "
            "must repeat the first request exactly"
        )
    return Page(start, before, limit)


def next_token(data: dict[str, Any], page: Page, start: int, returned: int) -> str:
    """The token of the page after this one."""
    fields = {"s": start, "n": page.before + returned, "h": _fingerprint(data, page.limit)}
    return base64.urlsafe_b64encode(orjson.dumps(fields)).decode().rstrip("=")


def search_answer(
    results: list[dict[str, str]], token: str, total: int, context: dict[str, Any] | None = None
) -> bytes:
    """A search response: ``page`` first (as the specification recommends), then results."""
    body: dict[str, Any] = {
        "page": {"next_token": token, "count": len(results), "total": total},
        "results": results,
    }
    if context is not None:
        body["context"] = context
    return orjson.dumps(body)
