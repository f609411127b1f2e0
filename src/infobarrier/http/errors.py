"""Every error is a JSON body ``{"code": ..., "message": ...}`` with a fitting status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from infobarrier.core.errors import (
    Conflict,
    FilterSyntaxError,
    InfobarrierError,
    InvalidInput,
    LicensingError,
    NotFound,
    RuleViolation,
)


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
    """An error raised by an adapter with its own status (401, 403, 404 ...)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def status_of(exc: InfobarrierError) -> int:
    """The HTTP status for a core or service error."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, LicensingError):
        return 409
    if getattr(exc, "status", None):
        return int(exc.status)  # type: ignore[attr-defined]
    if isinstance(exc, InvalidInput):
        return 400
    return 400


def body_of(exc: InfobarrierError) -> dict[str, Any]:
    """The JSON body for a core or service error."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
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
        return JSONResponse(body_of(exc), status_code=status_of(exc))

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            {"code": exc.code, "message": exc.message, **exc.extra},
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
            {"code": "invalid_request", "message": "; ".join(problems) or "invalid request"},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)


#: OpenAPI ``responses=`` for the errors every tenant route may give.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input; nothing was changed"},
    401: {"model": ErrorBody, "description": "No or invalid bearer token"},
    403: {"model": ErrorBody, "description": "The token's role may not do this"},
    404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
    409: {"model": ErrorBody, "description": "Conflicts with the current state"},
    422: {"model": ErrorBody, "description": "Malformed request"},
}
