"""The OpenID AuthZEN Authorization API 1.0 at the server root (docs/authzen.md).

The tenant is the bearer token's; an enforcer token (or an admin's) may ask. A deny is
``200`` with ``decision: false``; the context of every decision is our verdict object
(code, reason, pair, policy, segment), the same as ``POST /decisions`` answers. Errors
the specification defines (400, 401, 403) have a JSON string as their body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from infobarrier.core.answer_columns import OnePairBatch, answer_batch
from infobarrier.core.answers import Wrapping, answer_parts
from infobarrier.core.codes import ErrorCode
from infobarrier.core.contract import Action, Check, parse_action
from infobarrier.core.decisions import Openings, decide, user_index
from infobarrier.core.epoch import Epoch
from infobarrier.core.errors import InfobarrierError
from infobarrier.core.exceptions import ActiveExceptions
from infobarrier.core.reach import (
    allowed_actions,
    members_compatible,
    reach_page,
    reach_total,
    unrestricted,
)
from infobarrier.http.auth import bearer, services_of
from infobarrier.http.authzen_fast import PLAIN_ACTIONS, plain_request
from infobarrier.http.authzen_protocol import (
    INVALID,
    MAX_EVALUATIONS,
    SEMANTICS,
    USER,
    BadRequest,
    Unanswerable,
    action_name,
    bound,
    cut,
    error_answer,
    load_object,
    next_token,
    page_of,
    question,
    resource_people,
    search_answer,
    searched_type,
    semantic_of,
    subject_id,
    wrap_verdict,
)
from infobarrier.http.errors import status_for
from infobarrier.http.metrics import Metrics
from infobarrier.http.routes.decisions import VERSION_HEADER
from infobarrier.service.gc_pause import gc_paused
from infobarrier.service.tokens import Principal, Role

router = APIRouter(tags=["authzen"])

#: Evaluations answered on the event loop; larger requests go to the thread pool.
INLINE_EVALUATIONS = 2_000
#: Evaluations answered per step when a semantic may stop early.
STEP = 1_024

_TEAM = Action.ADD_TEAM_MEMBER.value


def _status(code: str) -> int:
    """The status of an engine error code (404 for an unknown user, else 400)."""
    try:
        return 404 if status_for(ErrorCode(code)) == 404 else 400
    except ValueError:
        return 400


_ERROR = {
    "description": "An error message",
    "content": {"application/json": {"schema": {"type": "string"}}},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "A required field is missing or malformed"},
    401: {**_ERROR, "description": "No bearer token, or an unknown or revoked one"},
    403: {**_ERROR, "description": "The token's role may not ask for decisions"},
}


class Refused(Exception):
    """An authentication or role failure (401, 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def install(app: FastAPI) -> None:
    """The router and its error answers (a JSON string, as the specification has it)."""

    @app.exception_handler(BadRequest)
    async def _bad(_request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse(exc.message, status_code=400)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.message, status_code=exc.status, headers=headers)

    app.include_router(router)


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    """The caller: an enforcer or admin token; its tenant is the one asked about.

    As for the native routes (``http.auth.require``): a token verified moments ago is
    admitted on the event loop, any other is verified (a query) in the thread pool, so a
    slow database never holds the loop.
    """
    if credentials is None or not credentials.credentials:
        raise Refused(401, "a bearer token is required")
    tokens = services_of(request).tokens
    found = tokens.trusted(credentials.credentials)
    if found is None:
        found = await run_in_threadpool(tokens.verify, credentials.credentials)
    if found is None:
        raise Refused(401, "the bearer token is unknown or revoked")
    if found.role not in (Role.ENFORCER, Role.ADMIN):
        raise Refused(403, f"the {found.role.value} role may not ask for decisions")
    request.state.tenant = found.tenant
    return found


def _max_pairs(request: Request) -> int:
    """The pairs one request may require: the setting ``max_pairs`` (``INFOBARRIER_MAX_PAIRS``)."""
    return services_of(request).settings.max_pairs


#: Each evaluation's decision, written with its verdict in one go (``core.answers``): a
#: verdict is the context of a decision that is its ``allowed``; an error is answered as
#: :func:`wrap_verdict` does (its status from its code).
WRAPPING = Wrapping(
    '{"decision":true,"context":',
    '{"decision":false,"context":',
    "}",
    lambda text: wrap_verdict(text, _status),
)


def _json(content: bytes | str, stamp: str) -> Response:
    return Response(content, media_type="application/json", headers={VERSION_HEADER: stamp})


_PERMIT, _FAILED = '{"decision":true', '{"decision":false,"context":{"error":'


def _count(
    request: Request, items: Sequence[Check | str], done: Sequence[str], content: bytes
) -> None:
    """Count answered evaluations by action and outcome (once per request)."""
    metrics: Metrics = request.app.state.metrics
    actions = [
        "invalid" if isinstance(item, str) else item["action"] for item in items[: len(done)]
    ]
    metrics.count_batch(actions, done, content, _PERMIT, _FAILED)


# -- evaluation ----------------------------------------------------------------------------
def _team(epoch: Epoch, check: Check, restricted: bool, openings: Openings | None) -> str:
    """``add-team-member``: the newcomer (the subject) with every member (the Implicit
    rule; the teams API decides for a team it knows)."""
    try:
        sender = user_index(epoch, check["from"])
        others = [user_index(epoch, upn) for upn in check["to"]]
        verdict = decide(
            epoch,
            Action.ADD_TEAM_MEMBER,
            sender,
            others,
            people_search_restriction=restricted,
            openings=openings,
        )
    except InfobarrierError as exc:
        return error_answer(_status(exc.code.value), exc.code.value, exc.message)
    return WRAPPING.wrap(orjson.dumps(verdict.as_dict()).decode())


def answers(
    epoch: Epoch, restricted: bool, openings: Openings | None, items: Sequence[Check | str]
) -> list[str]:
    """Each item's decision as JSON text, in order (a ``str`` item is already one)."""
    out: list[str] = []
    checks: list[Check] = []
    slots: list[int] = []
    for item in items:
        if type(item) is str:
            out.append(item)
            continue
        assert not isinstance(item, str)
        action = item["action"]
        if action == _TEAM or action.strip().lower() == _TEAM:
            out.append(_team(epoch, item, restricted, openings))
        else:
            slots.append(len(out))
            out.append("")
            checks.append(item)
    parts = answer_parts(
        epoch, checks, people_search_restriction=restricted, openings=openings, wrapping=WRAPPING
    )
    for slot, part in zip(slots, parts, strict=True):
        out[slot] = part
    return out


def _item(item: object, subject: object, action: object, resource: object) -> Check | str:
    """One item of ``evaluations`` with the defaults applied: a question, or its answer."""
    if type(item) is not dict:
        return error_answer(400, INVALID, "each evaluation must be an object")
    s = item.get("subject")
    a = item.get("action")
    r = item.get("resource")
    s = subject if s is None else s
    a = action if a is None else a
    r = resource if r is None else r
    if type(s) is dict and type(a) is dict and type(r) is dict:  # the usual case, fast
        sid, name, rid = s.get("id"), a.get("name"), r.get("id")
        if (
            s.get("type") == USER
            and r.get("type") == USER
            and type(sid) is str
            and type(name) is str
            and type(rid) is str
            and sid.strip()
            and name.strip()
            and rid.strip()
        ):
            return {"action": name, "from": sid, "to": [rid]}
    try:
        return question(s, a, r)
    except BadRequest as exc:
        return error_answer(400, INVALID, exc.message)
    except Unanswerable as exc:
        return error_answer(exc.status, exc.code, exc.message)


def plain_checks(
    listed: list[Any], subject: object, action: object, resource: object
) -> OnePairBatch | None:
    """The checks of a request whose every item is the usual one-pair question (a subject
    user and a resource user, ``add-team-member`` aside), as columns with the one action
    they all ask about when they do (``core.answer_columns``), or ``None`` for any other
    request: the hot path, one loop without a call per item. Anything else goes item by
    item (``_item``), which gives the same answers (a property test compares them:
    tests/http/test_authzen_batch.py).

    The defaults are read once: an item that leaves a field out costs nothing for it.
    """
    dsid = drid = dname = None  # the defaults, when they are plain
    if type(subject) is dict and subject.get("type") == USER:
        found = subject.get("id")
        if type(found) is str and found.strip():
            dsid = found
    if type(resource) is dict and resource.get("type") == USER:
        found = resource.get("id")
        if type(found) is str and found.strip():
            drid = found
    if type(action) is dict:
        found = action.get("name")
        if type(found) is str and found in PLAIN_ACTIONS:
            dname = found
    senders: list[str] = []
    recipients: list[str] = []
    names: list[str] = []
    for item in listed:
        if type(item) is not dict:
            return None
        s = item.get("subject")
        if s is None:
            sid = dsid
            if sid is None:
                return None
        elif type(s) is dict and s.get("type") == USER:
            sid = s.get("id")
            if type(sid) is not str or not sid.strip():
                return None
        else:
            return None
        r = item.get("resource")
        if r is None:
            rid = drid
            if rid is None:
                return None
        elif type(r) is dict and r.get("type") == USER:
            rid = r.get("id")
            if type(rid) is not str or not rid.strip():
                return None
        else:
            return None
        a = item.get("action")
        if a is None:
            name = dname
            if name is None:
                return None
        elif type(a) is dict:
            name = a.get("name")
            if type(name) is not str or name not in PLAIN_ACTIONS:
                return None
        else:
            return None
        senders.append(sid)
        recipients.append(rid)
        names.append(name)
    return OnePairBatch.of(senders, recipients, names) if names else None


def evaluate_all(
    epoch: Epoch,
    restricted: bool,
    openings: Openings | None,
    items: list[Check | str],
    semantic: str,
) -> tuple[bytes, Sequence[Check | str], list[str]]:
    """The ``evaluations`` answer of these items, the items answered, and each one's
    decision (written with its verdict in one go: :data:`WRAPPING`)."""
    if semantic == "execute_all":
        done = answers(epoch, restricted, openings, items)
    else:
        done = []
        for start in range(0, len(items), STEP):
            chunk = items[start : start + STEP]
            part, stopped = cut(answers(epoch, restricted, openings, chunk), semantic)
            done.extend(part)
            if stopped:
                break
    return ('{"evaluations":[' + ",".join(done) + "]}").encode(), items[: len(done)], done


def evaluate_plain(
    epoch: Epoch, restricted: bool, openings: Openings | None, plain: OnePairBatch
) -> tuple[bytes, list[str] | None]:
    """The ``evaluations`` answer of a plain ``execute_all`` request (:func:`plain_checks`
    or ``http.authzen_fast``), and for one of several actions each decision apart
    (``core.answer_columns.answer_batch``)."""
    text, parts = answer_batch(
        epoch, plain, people_search_restriction=restricted, openings=openings, wrapping=WRAPPING
    )
    return ('{"evaluations":[' + text + "]}").encode(), parts


def _evaluate_all(
    request: Request,
    tenant: str,
    items: list[Check | str],
    semantic: str,
    plain: OnePairBatch | None = None,
) -> tuple[bytes, str]:
    """The answer and decision state of the items (or of ``plain``), the collector paused
    (as ``POST /decisions`` does; also when called on its own in the thread pool)."""
    with gc_paused():
        epoch, restricted, openings, state = services_of(request).decisions.in_force_at(tenant)
        if plain is not None:
            content, parts = evaluate_plain(epoch, restricted, openings, plain)
            metrics: Metrics = request.app.state.metrics
            metrics.count_batch(plain.action_of_each(), parts, content, _PERMIT, _FAILED)
        else:
            content, answered, done = evaluate_all(epoch, restricted, openings, items, semantic)
            _count(request, answered, done, content)
    return content, state


def _evaluate_one(request: Request, tenant: str, data: dict[str, Any]) -> Response:
    try:
        item: Check | str = question(data.get("subject"), data.get("action"), data.get("resource"))
    except Unanswerable as exc:
        item = error_answer(exc.status, exc.code, exc.message)
    bound([item], _max_pairs(request))
    epoch, restricted, openings, state = services_of(request).decisions.in_force_at(tenant)
    done = answers(epoch, restricted, openings, [item])
    _count(request, [item], done, done[0].encode())
    return _json(done[0], state)


_EVALUATION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "action", "resource"],
    "properties": {
        "subject": {"type": "object", "required": ["type", "id"]},
        "action": {"type": "object", "required": ["name"]},
        "resource": {"type": "object", "required": ["type"]},
        "context": {"type": "object"},
    },
}
_DECISION = {
    "type": "object",
    "required": ["decision"],
    "properties": {"decision": {"type": "boolean"}, "context": {"type": "object"}},
}


#: Request bodies by component name (``openapi_components``): the specification requires
#: unknown fields to be ignored, so none of them forbids additional properties.
COMPONENTS: dict[str, dict[str, Any]] = {}


def _body(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    COMPONENTS[name] = {"title": name, "additionalProperties": True, **schema}
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def openapi_components() -> dict[str, dict[str, Any]]:
    """The request body schemas of the AuthZEN routes, for the OpenAPI document."""
    return dict(COMPONENTS)


def _ok(schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "Answered", "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/access/v1/evaluation",
    responses={**_ok(_DECISION), **ERRORS},
    openapi_extra=_body("AuthzenEvaluation", _EVALUATION_BODY),
    response_class=Response,
)
async def evaluation(request: Request, who: Principal = Depends(principal)) -> Response:
    """One decision: may ``subject`` do ``action`` with ``resource`` (a user, or a
    conversation's ``properties.members``)? A deny is ``decision: false``."""
    data = load_object(await request.body())
    return _evaluate_one(request, who.tenant, data)


@router.post(
    "/access/v1/evaluations",
    responses={
        **_ok(
            {
                "type": "object",
                "properties": {"evaluations": {"type": "array", "items": _DECISION}},
            }
        ),
        **ERRORS,
    },
    openapi_extra=_body(
        "AuthzenEvaluations",
        {
            "type": "object",
            "properties": {
                **_EVALUATION_BODY["properties"],
                "options": {"type": "object"},
                "evaluations": {"type": "array", "items": {"type": "object"}},
            },
        },
    ),
    response_class=Response,
)
async def evaluations(request: Request, who: Principal = Depends(principal)) -> Response:
    """Many decisions in request order; top-level ``subject``, ``action``, ``resource``
    and ``context`` are each item's defaults. ``options.evaluations_semantic``:
    ``execute_all`` (default), ``deny_on_first_deny``, ``permit_on_first_permit``. An
    item that cannot be answered is ``decision: false`` with the error in its context.
    Without ``evaluations`` (or with none) the request is a single evaluation.

    The cyclic garbage collector is paused while the body is read and the batch answered,
    as for ``POST /decisions`` (an evaluations body is three objects an item, and the
    collections they triggered were a fifth of the request's CPU; docs/decisions.md)."""
    body = await request.body()
    with gc_paused():
        found = _evaluations_inline(request, who.tenant, body)
    if isinstance(found, Response):
        return found
    content, stamp = await run_in_threadpool(_evaluate_all, request, who.tenant, *found)
    return _json(content, stamp)


_Threaded = tuple[list[Check | str], str, OnePairBatch | None]


def _evaluations_inline(request: Request, tenant: str, body: bytes) -> Response | _Threaded:
    """The answer of an ``evaluations`` request small enough for the event loop, or what
    the thread pool needs to answer it (:func:`_evaluate_all`'s arguments). A function
    of its own so that the objects of the body are gone when it returns to the caller's
    pause of the collector (what is still alive when a pause ends is collected at once)."""
    fast = plain_request(body)
    if fast is not None:  # the usual request, decoded into structs (http.authzen_fast)
        return _plain_inline(request, tenant, fast)
    data = load_object(body)
    semantic = semantic_of(data)
    listed = data.get("evaluations")
    if listed is None or listed == []:
        return _evaluate_one(request, tenant, data)
    if type(listed) is not list:
        raise BadRequest("'evaluations' must be an array")
    if len(listed) > MAX_EVALUATIONS:
        raise BadRequest(f"at most {MAX_EVALUATIONS} evaluations per request")
    s, a, r = data.get("subject"), data.get("action"), data.get("resource")
    plain = plain_checks(listed, s, a, r) if semantic == "execute_all" else None
    items: list[Check | str] = [_item(item, s, a, r) for item in listed] if plain is None else []
    limit = _max_pairs(request)
    bound(items, limit)
    if plain is not None and len(plain) > limit:  # one pair an item: counted only when over
        bound(plain.checks(), limit)
    if len(listed) > INLINE_EVALUATIONS:
        return items, semantic, plain
    content, stamp = _evaluate_all(request, tenant, items, semantic, plain)
    return _json(content, stamp)


def _plain_inline(request: Request, tenant: str, plain: OnePairBatch) -> Response | _Threaded:
    """:func:`_evaluations_inline` for a request :func:`plain_request` read: the same
    steps as its plain path (bounded, then answered here or in the thread pool)."""
    limit = _max_pairs(request)
    if len(plain) > limit:  # one pair an item: counted only when over
        bound(plain.checks(), limit)
    if len(plain) > INLINE_EVALUATIONS:
        return [], SEMANTICS[0], plain
    content, stamp = _evaluate_all(request, tenant, [], SEMANTICS[0], plain)
    return _json(content, stamp)


# -- search --------------------------------------------------------------------------------
_SEARCH_OUT = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "page": {
            "type": "object",
            "properties": {
                "next_token": {"type": "string"},
                "count": {"type": "integer"},
                "total": {"type": "integer"},
            },
        },
        "results": {"type": "array", "items": {"type": "object"}},
        "context": {"type": "object"},
    },
}


def _failed(exc: Unanswerable | InfobarrierError) -> bytes:
    if isinstance(exc, Unanswerable):
        status, code = exc.status, exc.code
    else:
        status, code = _status(exc.code.value), exc.code.value
    error = {"status": status, "code": code, "message": exc.message}
    return search_answer([], "", 0, {"error": error})


def _people_page(
    request: Request, tenant: str, data: dict[str, Any], anchors_of: Any, name: str
) -> Response:
    """A page of people compatible with the anchors for ``name`` (resource and subject
    search differ only in who the anchors are)."""
    page = page_of(data)
    epoch, restricted, openings, stamp = services_of(request).decisions.in_force_at(tenant)
    try:
        action = parse_action(name)
        anchors: list[int] = anchors_of(epoch)
    except (InfobarrierError, Unanswerable) as exc:
        return _json(_failed(exc), stamp)
    bound([{"action": action.value, "from": "", "to": [""] * len(anchors)}], _max_pairs(request))
    everyone = unrestricted(action, restricted)
    active = openings if isinstance(openings, ActiveExceptions) else None
    possible = (
        bool(anchors)
        and len(set(anchors)) == len(anchors)
        and (len(anchors) == 1 or action not in (Action.CHAT, Action.SHARE_FILE))
        and members_compatible(epoch, action, anchors, active)
    )
    if not possible:
        return _json(search_answer([], "", 0), stamp)
    total = reach_total(epoch, anchors, everyone=everyone, openings=active, action=action)
    found, position = reach_page(
        epoch,
        anchors,
        page.start,
        page.limit,
        everyone=everyone,
        openings=active,
        action=action,
    )
    upns = epoch.upns
    results = [{"type": USER, "id": upns[i]} for i in found]
    more = position < len(epoch) and page.before + len(found) < total
    token = next_token(data, page, position, len(found)) if more else ""
    return _json(search_answer(results, token, total), stamp)


_SEARCH_BODY = {"type": "object", "required": ["subject", "action", "resource"]}


@router.post(
    "/access/v1/search/resource",
    responses={**_ok(_SEARCH_OUT), **ERRORS},
    openapi_extra=_body("AuthzenResourceSearch", _SEARCH_BODY),
    response_class=Response,
)
async def search_resource(request: Request, who: Principal = Depends(principal)) -> Response:
    """The people (``resource`` of type ``user``; its ``id`` is ignored) the subject may
    reach with the action: the people picker. Paged (``page.token``, ``page.limit``,
    at most 1,000 a page) in a stable order; ``page.total`` counts them all."""
    data = load_object(await request.body())
    try:
        upn: str | None = subject_id(data.get("subject"))
        problem: Unanswerable | None = None
    except Unanswerable as exc:
        upn, problem = None, exc
    name = action_name(data.get("action"))
    kind = searched_type(data.get("resource"), "resource")

    def anchors(epoch: Epoch) -> list[int]:
        if problem is not None:
            raise problem
        if kind != USER:
            raise Unanswerable(400, INVALID, "resource search finds users only")
        assert upn is not None
        return [user_index(epoch, upn)]

    return _people_page(request, who.tenant, data, anchors, name)


@router.post(
    "/access/v1/search/subject",
    responses={**_ok(_SEARCH_OUT), **ERRORS},
    openapi_extra=_body("AuthzenSubjectSearch", _SEARCH_BODY),
    response_class=Response,
)
async def search_subject(request: Request, who: Principal = Depends(principal)) -> Response:
    """The people (``subject`` of type ``user``; its ``id`` is ignored) who may do the
    action with the resource: a user, or a conversation's members (for a group action,
    the members must also be compatible with each other). Paged like resource search."""
    data = load_object(await request.body())
    kind = searched_type(data.get("subject"), "subject")
    name = action_name(data.get("action"))
    try:
        people: list[str] | None = resource_people(data.get("resource"), None)
        problem: Unanswerable | None = None
    except Unanswerable as exc:
        people, problem = None, exc

    def anchors(epoch: Epoch) -> list[int]:
        if problem is not None:
            raise problem
        if kind != USER:
            raise Unanswerable(400, INVALID, "subject search finds users only")
        assert people is not None
        return [user_index(epoch, upn) for upn in people]

    return _people_page(request, who.tenant, data, anchors, name)


@router.post(
    "/access/v1/search/action",
    responses={**_ok(_SEARCH_OUT), **ERRORS},
    openapi_extra=_body(
        "AuthzenActionSearch", {"type": "object", "required": ["subject", "resource"]}
    ),
    response_class=Response,
)
async def search_action(request: Request, who: Principal = Depends(principal)) -> Response:
    """The actions the subject may use with the resource (a user or a conversation), in
    one page."""
    data = load_object(await request.body())
    epoch, restricted, openings, stamp = services_of(request).decisions.in_force_at(who.tenant)
    try:
        sender_upn = subject_id(data.get("subject"))
        people = resource_people(data.get("resource"), sender_upn)
        if data.get("page") is not None:
            page_of(data)  # validated; every action fits in one page
        bound([{"action": Action.GROUP_CHAT.value, "from": "", "to": people}], _max_pairs(request))
        sender = user_index(epoch, sender_upn)
        others = [user_index(epoch, upn) for upn in people]
    except (InfobarrierError, Unanswerable) as exc:
        return _json(_failed(exc), stamp)
    found = allowed_actions(
        epoch, sender, others, people_search_restriction=restricted, openings=openings
    )
    results = [{"name": a.value} for a in found]
    return _json(search_answer(results, "", len(results)), stamp)


# -- metadata ------------------------------------------------------------------------------
PATHS = {
    "access_evaluation_endpoint": "/access/v1/evaluation",
    "access_evaluations_endpoint": "/access/v1/evaluations",
    "search_subject_endpoint": "/access/v1/search/subject",
    "search_resource_endpoint": "/access/v1/search/resource",
    "search_action_endpoint": "/access/v1/search/action",
}


@router.get(
    "/.well-known/authzen-configuration",
    responses=_ok(
        {
            "type": "object",
            "required": ["policy_decision_point", "access_evaluation_endpoint"],
            "properties": {k: {"type": "string"} for k in ("policy_decision_point", *PATHS)},
        }
    ),
    response_class=Response,
)
def configuration(request: Request) -> Response:
    """The decision point's metadata: its identifier and every endpoint (no token needed)."""
    base = str(request.base_url).rstrip("/")
    body = {"policy_decision_point": base, **{k: base + p for k, p in PATHS.items()}}
    return Response(orjson.dumps(body), media_type="application/json")
