"""Every error is a JSON body ``{"code": ..., "message": ...}`` with a fitting status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from infobarrier.core.codes import Code, ErrorCode, VerdictCode
from infobarrier.core.errors import Busy, FilterSyntaxError, InfobarrierError, RuleViolation

#: The HTTP status of every error code (docs/semantics.md, "Codes"). A refusal by the
#: barrier carries its verdict's code and is a 403.
STATUS: dict[ErrorCode, int] = {
    ErrorCode.ERROR: 400,
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.INVALID_JSON: 422,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.INVALID_CHECK: 422,
    ErrorCode.TOO_MANY_CHECKS: 413,
    ErrorCode.TOO_LONG: 400,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.INVALID_UPN: 400,
    ErrorCode.INVALID_IDENTIFIER: 400,
    ErrorCode.FILTER_SYNTAX: 400,
    ErrorCode.RULE_VIOLATION: 400,
    ErrorCode.CSV_ERROR: 400,
    ErrorCode.SCRIPT_ERROR: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNKNOWN_USER: 404,
    ErrorCode.UNKNOWN_SEGMENT: 404,
    ErrorCode.UNKNOWN_EXCEPTION: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TENANT_EXISTS: 409,
    ErrorCode.USER_EXISTS: 409,
    ErrorCode.GROUP_EXISTS: 409,
    ErrorCode.APPLY_RUNNING: 409,
    ErrorCode.EXCEPTION_STATE: 409,
    ErrorCode.FOUR_EYES: 403,
    ErrorCode.PERSON_REQUIRED: 422,
    ErrorCode.LICENSING: 409,
    ErrorCode.INVALID_SEATS: 409,
    ErrorCode.SEATS_IN_USE: 409,
    ErrorCode.GUEST_NOT_ALLOWED: 409,
    ErrorCode.OUT_OF_SEATS: 409,
    ErrorCode.LICENSE_REQUIRED: 403,
    ErrorCode.REFUSED: 403,
    ErrorCode.CHAT_READ_ONLY: 403,
    ErrorCode.REMOVED_FROM_CHAT: 403,
    ErrorCode.NOT_INVITED: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.HTTP_ERROR: 400,
    ErrorCode.BUSY: 503,
}


class ErrorBody(BaseModel):
    """The body of every error answer."""

    code: str
    message: str
    rule: str | None = None
    position: int | None = None
    policy: str | None = None
    segment: str | None = None
    pair: list[str] | None = None


class ApiError(Exception):
    """An error raised by an adapter (401, 403, 404 ...); its status is its code's."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = STATUS[code]
        self.code = code
        self.message = message
        self.extra = extra


def status_for(code: Code) -> int:
    """The HTTP status of an error code."""
    return 403 if isinstance(code, VerdictCode) else STATUS[code]


def status_of(exc: InfobarrierError) -> int:
    """The HTTP status for a core or service error."""
    return status_for(exc.code)


def body_of(exc: InfobarrierError) -> dict[str, Any]:
    """The JSON body for a core or service error."""
    body: dict[str, Any] = {"code": exc.code.value, "message": exc.message}
    if isinstance(exc, RuleViolation):
        body["rule"] = exc.rule
    if isinstance(exc, FilterSyntaxError):
        body["position"] = exc.position
    for key in ("policy", "segment", "pair"):
        value = getattr(exc, key, None)
        if value is not None:
            body[key] = list(value) if isinstance(value, tuple) else value
    return body


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into JSON error bodies."""

    @app.exception_handler(InfobarrierError)
    async def _domain(_request: Request, exc: InfobarrierError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
        return JSONResponse(body_of(exc), status_code=status_of(exc), headers=headers)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            {"code": exc.code.value, "message": exc.message, **exc.extra},
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse(
            {
                "code": ErrorCode.INVALID_REQUEST,
                "message": "; ".join(problems) or "invalid request",
            },
            status_code=422,
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        # A JSON body nested so deeply that parsing it recursed too far: bad input.
        return JSONResponse(
            {"code": "invalid_request", "message": "the JSON body is nested too deeply"},
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
            exc.status_code, ErrorCode.HTTP_ERROR
        )
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)


#: OpenAPI ``responses=`` for the errors every tenant route may give.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input; nothing was changed"},
    401: {"model": ErrorBody, "description": "No or invalid bearer token"},
    403: {"model": ErrorBody, "description": "The token's role may not do this"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    409: {"model": ErrorBody, "description": "Conflicts with the current state"},
    413: {
        "model": ErrorBody,
        "description": "The body is over its route's cap, or the "
        "request over a documented limit (docs/security.md)",
    },
    422: {"model": ErrorBody, "description": "Malformed request"},
    503: {"model": ErrorBody, "description": "Busy: the store's write lock was not had in time"},
}
