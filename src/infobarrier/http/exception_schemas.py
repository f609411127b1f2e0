"""Request and response models of the wall-crossing exceptions routes (semantics §11)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from infobarrier.core.limits import MAX_NAME, MAX_UPN


class ExceptionRequestIn(BaseModel):
    """A request: two users or two segments, actions, a window, a justification."""

    model_config = ConfigDict(extra="forbid")

    users: list[Annotated[str, Field(max_length=MAX_UPN)]] | None = Field(
        None, min_length=2, max_length=2, description="Two UPNs (or give segments)"
    )
    segments: list[Annotated[str, Field(max_length=MAX_NAME)]] | None = Field(
        None, min_length=2, max_length=2, description="Two segment names (or give users)"
    )
    actions: list[Annotated[str, Field(max_length=32)]] = Field(
        ..., min_length=1, max_length=16, description="chat, call, ..."
    )
    start: str | None = Field(None, max_length=64, description="ISO 8601; default now")
    end: str = Field(..., min_length=1, max_length=64, description="ISO 8601")
    why: str = Field(..., min_length=1, max_length=2000, description="The justification")


class ExceptionNoteIn(BaseModel):
    """An optional note (why rejected or revoked)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class ExceptionOut(BaseModel):
    """An exception, whether it is active now and how long it has left."""

    id: str
    users: list[str] | None
    upns: list[str] | None
    segments: list[str] | None
    actions: list[str]
    start: str
    end: str
    justification: str
    requester: str
    requested_at: str
    state: str
    approver: str | None
    approved_at: str | None
    closed_by: str | None
    closed_at: str | None
    note: str
    active: bool
    remaining_seconds: int


class RevokedOut(BaseModel):
    """A revoked exception and the reconciliation it caused."""

    exception: ExceptionOut
    reconciliation: list[dict[str, Any]]


class ExceptionWhatIfOut(BaseModel):
    """What approving (or revoking) an exception would change."""

    exception: str
    state: str
    effect: str = Field(description="approve or revoke")
    pairs_total: int | None = None
    pairs: list[dict[str, Any]] | None = None
    conversations_total: int
    conversations: list[dict[str, Any]] | None = None
    reconciliation: list[dict[str, Any]] | None = None
    reconciliation_total: int | None = None


class ExceptionSettingsOut(BaseModel):
    """The tenant's maximum window."""

    max_window_days: float


class ExceptionSettingsIn(BaseModel):
    """Set the tenant's maximum window."""

    model_config = ConfigDict(extra="forbid")

    max_window_days: float = Field(..., gt=0, le=366)
