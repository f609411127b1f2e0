"""Decisions, relationship and search (semantics §6, §7): the enforcer's routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from infobarrier.core.answer_columns import OnePairBatch, answer_batch
from infobarrier.core.answers import answer_parts
from infobarrier.core.contract import Check, read_body, read_body_pairs
from infobarrier.http import schemas
from infobarrier.http.auth import Area, require, services_of
from infobarrier.http.convert import verdict_out
from infobarrier.http.decisions_fast import one_pair_batch
from infobarrier.http.errors import ERRORS
from infobarrier.http.metrics import Metrics
from infobarrier.service.gc_pause import gc_paused
from infobarrier.service.tokens import Principal
from infobarrier.service.wiring import Services

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["decisions"])
enforce = require(Area.ENFORCE)


@router.post(
    "/decisions",
    response_model=schemas.DecisionsOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decisions"}}},
        }
    },
)
async def decisions(tenant: str, request: Request, _p: Principal = Depends(enforce)) -> Response:
    """Answer checks in order against one epoch; an unknown user is an error item in place.

    A body that is not ``{"checks": [...]}`` of well-formed checks is refused as a whole
    (422, or 413 past the setting ``max_checks``; nothing answered). The usual body, every
    check of one recipient, is read by ``http.decisions_fast`` and answered column by
    column (``core.answer_columns``); any other by ``core.contract.read_body`` and
    ``core.answers``, with the same answers.

    Batches requiring up to the setting ``inline_pairs`` pairs of users are answered on the
    event loop (a few milliseconds: cheaper than a hand-off to a thread, and a busy worker then
    leaves new connections to the others under ``serve --workers``); others in the thread
    pool, so the worker keeps serving others (``/healthz`` included). A group check of
    ``n`` recipients counts ``n + n(n-1)/2`` pairs (``core.contract.pairs_required``); a
    body over the setting ``inline_body_bytes`` is parsed in the thread pool too.

    The cyclic garbage collector is paused while a batch is read and answered
    (``service.gc_pause``, counted and thread-safe): a batch builds thousands of short-lived
    dicts and strings and no cycle, and the collections they would trigger cost several
    percent of the request (docs/decisions.md, "The collector paused while a decision
    batch is answered").
    """
    body = await request.body()
    services = services_of(request)
    metrics: Metrics = request.app.state.metrics
    settings = services.settings
    if len(body) > settings.inline_body_bytes:  # parsing alone would hold the event loop
        content, stamp = await run_in_threadpool(_read_and_answer, services, metrics, tenant, body)
        return Response(content, media_type="application/json", headers={VERSION_HEADER: stamp})
    with gc_paused():
        found = _read_inline(services, metrics, tenant, body)
    if not isinstance(found, tuple):
        found = await run_in_threadpool(_answer, services, metrics, tenant, found)
    content, stamp = found
    return Response(content, media_type="application/json", headers={VERSION_HEADER: stamp})


def _read_inline(
    services: Services, metrics: Metrics, tenant: str, body: bytes
) -> tuple[bytes, str] | list[Check] | OnePairBatch:
    """The answer of a batch small enough for the event loop, or its checks for the thread
    pool. A function of its own so that the checks it built are gone when it returns to
    the caller's pause: the collector, back on, then finds nothing new to collect (what is
    still alive when a pause ends is collected at once)."""
    settings = services.settings
    batch = one_pair_batch(body, max_checks=settings.max_checks, max_pairs=settings.max_pairs)
    if batch is not None:  # the usual body, as columns (``http.decisions_fast``)
        if len(batch) <= settings.inline_pairs:
            return _answer(services, metrics, tenant, batch)
        return batch
    checks, pairs = read_body_pairs(
        body, max_checks=settings.max_checks, max_pairs=settings.max_pairs
    )
    if pairs <= settings.inline_pairs and len(checks) <= settings.inline_pairs:
        return _answer(services, metrics, tenant, checks)
    return checks


def _read_and_answer(
    services: Services, metrics: Metrics, tenant: str, body: bytes
) -> tuple[bytes, str]:
    settings = services.settings
    with gc_paused():
        found: list[Check] | OnePairBatch | None = one_pair_batch(
            body, max_checks=settings.max_checks, max_pairs=settings.max_pairs
        )
        if found is None:
            found = read_body(body, max_checks=settings.max_checks, max_pairs=settings.max_pairs)
        return _answer(services, metrics, tenant, found)


def _answer(
    services: Services, metrics: Metrics, tenant: str, checks: list[Check] | OnePairBatch
) -> tuple[bytes, str]:
    """The batch's answer and decision state, with the collector paused (also when called
    on its own in the thread pool; the pause is counted, so nesting is free)."""
    with gc_paused():
        epoch, restricted, openings, state = services.decisions.in_force_at(tenant)
        if isinstance(checks, OnePairBatch):
            text, parts = answer_batch(
                epoch, checks, people_search_restriction=restricted, openings=openings
            )
            content = ('{"results":[' + text + "]}").encode()
            metrics.count_batch(checks.action_of_each(), parts, content, _ALLOWED, _ERROR)
            return content, state
        parts = answer_parts(epoch, checks, people_search_restriction=restricted, openings=openings)
        content = ('{"results":[' + ",".join(parts) + "]}").encode()
        actions = [c["action"] for c in checks]
        metrics.count_batch(actions, parts, content, _ALLOWED, _ERROR)
    return content, state


#: How an answer that allows starts, and one that failed (for the metrics).
_ALLOWED, _ERROR = '{"allowed":true', '{"error":'


#: The header decision answers carry: the tenant's decision state (see ``/version``),
#: an opaque string (``service.decisions.decision_state``).
VERSION_HEADER = "X-Infobarrier-Version"


@router.get("/version", response_model=schemas.VersionOut)
def version(
    tenant: str, request: Request, response: Response, _p: Principal = Depends(enforce)
) -> schemas.VersionOut:
    """The tenant's decision state, cheaply: a cached answer given at the same ``stamp``
    is still the answer (``infobarrier.client`` checks this before using its cache). The
    same ``stamp`` is the ``X-Infobarrier-Version`` header of every decision answer."""
    found, epoch_id, restricted, stamp = services_of(request).decisions.version(tenant)
    response.headers[VERSION_HEADER] = stamp
    return schemas.VersionOut(
        tenant=tenant,
        version=found,
        epoch=epoch_id,
        people_search_restriction=restricted,
        stamp=stamp,
    )


@router.get("/relationship", response_model=schemas.VerdictOut)
def relationship(
    tenant: str,
    request: Request,
    a: str = Query(..., min_length=1, description="UPN"),
    b: str = Query(..., min_length=1, description="UPN"),
    _p: Principal = Depends(enforce),
) -> schemas.VerdictOut:
    """Are two users compatible (§6), and why."""
    return verdict_out(services_of(request).decisions.relationship(tenant, a, b))


@router.get("/search", response_model=schemas.SearchOut)
def search(
    tenant: str,
    request: Request,
    q: str = Query(..., min_length=1, max_length=256, description="Prefix of a word"),
    as_upn: str = Query(..., alias="as", min_length=1, description="UPN of the searcher"),
    limit: int = Query(25, ge=1, le=1000),
    _p: Principal = Depends(enforce),
) -> schemas.SearchOut:
    """The directory search of user ``as``: blocked users simply do not appear."""
    users = services_of(request).decisions.search(tenant, q, as_upn, limit)
    return schemas.SearchOut(
        results=[
            schemas.SearchHit(upn=u.upn, display_name=u.display_name, mail=u.mail) for u in users
        ]
    )
