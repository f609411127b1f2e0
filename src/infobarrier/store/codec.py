"""JSON forms of barrier configurations, for an epoch's own copy (semantics §4, §5)."""

from __future__ import annotations

from typing import Any

from infobarrier.core.barriers import (
    BarrierConfig,
    ListKind,
    Mode,
    Policy,
    PolicyState,
    Segment,
)
from infobarrier.core.filters.parser import parse_filter


def segment_to_json(segment: Segment) -> dict[str, Any]:
    """A segment as stored."""
    return {"id": segment.id, "name": segment.name, "filter": segment.filter}


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """A policy as stored."""
    return {
        "id": policy.id,
        "name": policy.name,
        "segment": policy.segment,
        "kind": policy.kind.value,
        "segments": list(policy.segments),
        "state": policy.state.value,
        "moderation_allowed": policy.moderation_allowed,
        "comment": policy.comment,
    }


def config_to_json(config: BarrierConfig) -> dict[str, Any]:
    """A whole configuration as one JSON object."""
    return {
        "mode": config.mode.value,
        "people_search_restriction": config.people_search_restriction,
        "segments": [segment_to_json(s) for s in config.segments],
        "policies": [policy_to_json(p) for p in config.policies],
    }


def segment_from_json(data: dict[str, Any]) -> Segment:
    """Inverse of :func:`segment_to_json` (the filter was valid when stored)."""
    return Segment(data["id"], data["name"], data["filter"], parse_filter(data["filter"]))


def policy_from_json(data: dict[str, Any]) -> Policy:
    """Inverse of :func:`policy_to_json`."""
    return Policy(
        id=data["id"],
        name=data["name"],
        segment=data["segment"],
        kind=ListKind(data["kind"]),
        segments=tuple(data["segments"]),
        state=PolicyState(data["state"]),
        moderation_allowed=bool(data.get("moderation_allowed", False)),
        comment=data.get("comment", ""),
    )


def config_from_json(data: dict[str, Any]) -> BarrierConfig:
    """Inverse of :func:`config_to_json`."""
    return BarrierConfig(
        mode=Mode(data["mode"]),
        people_search_restriction=bool(data.get("people_search_restriction", True)),
        segments=tuple(segment_from_json(s) for s in data["segments"]),
        policies=tuple(policy_from_json(p) for p in data["policies"]),
    )
