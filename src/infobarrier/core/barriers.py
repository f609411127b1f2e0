"""Segments, policies, tenant modes and every rule of semantics §1, §3 and §4.

:class:`BarrierConfig` is an immutable value: each edit returns a new config or raises
:class:`RuleViolation` naming the rule, so a rejected edit cannot leave anything
half-done. The store persists configs; ``core.compiler`` turns one into an epoch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from infobarrier.core.directory import fold, new_id
from infobarrier.core.errors import InvalidInput, NotFound, RuleViolation
from infobarrier.core.filters.ast import Expr
from infobarrier.core.filters.parser import parse_filter
from infobarrier.core.limits import MAX_COMMENT, MAX_NAME, check_name, check_text


class Mode(StrEnum):
    """``InformationBarrierMode`` (semantics §1)."""

    LEGACY = "Legacy"
    SINGLE_SEGMENT = "SingleSegment"
    MULTI_SEGMENT = "MultiSegment"


@dataclass(frozen=True, slots=True)
class ModeLimits:
    """How many segments a tenant may define, and how many one user may be in."""

    max_segments: int
    max_segments_per_user: int


LIMITS: dict[Mode, ModeLimits] = {
    Mode.LEGACY: ModeLimits(250, 1),
    Mode.SINGLE_SEGMENT: ModeLimits(5000, 1),
    Mode.MULTI_SEGMENT: ModeLimits(5000, 10),
}


def parse_mode(text: str) -> Mode:
    """A mode from its name, case-insensitively, or a clear error."""
    for mode in Mode:
        if mode.value.casefold() == text.strip().casefold():
            return mode
    raise RuleViolation(
        "mode.name", f"unknown mode {text!r}: expected Legacy, SingleSegment or MultiSegment"
    )


class PolicyState(StrEnum):
    """Only ``Active`` policies go into an epoch (semantics §4)."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


def parse_state(text: str) -> PolicyState:
    """A policy state from its name, case-insensitively, or a clear error."""
    for state in PolicyState:
        if state.value.casefold() == text.strip().casefold():
            return state
    raise RuleViolation("policy.state", f"unknown state {text!r}: expected Active or Inactive")


class ListKind(StrEnum):
    """Whether a policy names the segments its segment may reach, or may not."""

    ALLOW = "allow"
    BLOCK = "block"


_TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def check_tenant_name(name: str) -> str:
    """Tenant names: 1-63 of a-z, 0-9 and '-', starting with a letter or digit (§2)."""
    if not _TENANT_NAME.fullmatch(name):
        raise RuleViolation(
            "tenant.name",
            f"invalid tenant name {name!r}: use 1-63 characters a-z, 0-9 and '-', "
            "starting with a letter or digit",
        )
    return name


@dataclass(frozen=True, slots=True)
class Segment:
    """``New-OrganizationSegment``: a name (never renamed) and a ``UserGroupFilter``."""

    id: str
    name: str
    filter: str
    expr: Expr = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Policy:
    """``New-InformationBarrierPolicy``: restricts its own segment only (§4)."""

    id: str
    name: str
    segment: str
    kind: ListKind
    segments: tuple[str, ...]
    state: PolicyState = PolicyState.INACTIVE
    moderation_allowed: bool = False
    comment: str = ""

    @property
    def is_active(self) -> bool:
        """Only Active policies are compiled into an epoch."""
        return self.state is PolicyState.ACTIVE


def _check_name(kind: str, name: str) -> str:
    """A segment or policy name through ``core.limits.check_name`` (one rule per fault)."""
    stripped = name.strip()
    if not 1 <= len(stripped) <= MAX_NAME:
        raise RuleViolation(f"{kind}.name_length", f"a {kind} name must be 1-{MAX_NAME} characters")
    try:
        return check_name(kind, stripped, MAX_NAME)
    except InvalidInput as exc:
        raise RuleViolation(f"{kind}.name_characters", exc.message) from None


@dataclass(frozen=True, slots=True)
class _Index:
    """Positions in a :class:`BarrierConfig`'s tuples by folded name, id and (for policies)
    folded segment name; the first position wins, as a scan in order would find it."""

    segment_names: dict[str, int]
    segment_ids: dict[str, int]
    policy_names: dict[str, int]
    policy_ids: dict[str, int]
    policy_segments: dict[str, int]

    @staticmethod
    def of(config: BarrierConfig) -> _Index:
        index = _Index({}, {}, {}, {}, {})
        for i, segment in enumerate(config.segments):
            index.segment_names.setdefault(fold(segment.name), i)
            index.segment_ids.setdefault(segment.id, i)
        for i, policy in enumerate(config.policies):
            index.policy_names.setdefault(fold(policy.name), i)
            index.policy_ids.setdefault(policy.id, i)
            index.policy_segments.setdefault(fold(policy.segment), i)
        return index


def _first(a: int | None, b: int | None) -> int | None:
    """The earlier of two positions, either possibly missing."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(frozen=True, slots=True)
class BarrierConfig:
    """Everything an admin defines: mode, search restriction, segments and policies."""

    mode: Mode = Mode.SINGLE_SEGMENT
    people_search_restriction: bool = True
    segments: tuple[Segment, ...] = ()
    policies: tuple[Policy, ...] = ()
    #: Lookups by name and id, built on first use (a scan of 500 segments per lookup made
    #: a vendor proposal's preview quadratic); ``replace`` starts a new config without it.
    _index: _Index | None = field(default=None, init=False, repr=False, compare=False)

    # -- lookups -------------------------------------------------------------
    def _lookups(self) -> _Index:
        index = self._index
        if index is None:
            index = _Index.of(self)
            object.__setattr__(self, "_index", index)
        return index

    def find_segment(self, name: str) -> Segment | None:
        """A segment by name (case-insensitive) or id: the first in order that matches."""
        index = self._lookups()
        found = _first(index.segment_names.get(fold(name.strip())), index.segment_ids.get(name))
        return None if found is None else self.segments[found]

    def segment(self, name: str) -> Segment:
        """A segment by name, or :class:`NotFound` naming it."""
        found = self.find_segment(name)
        if found is None:
            raise NotFound(f"no segment named {name!r}")
        return found

    def find_policy(self, name: str) -> Policy | None:
        """A policy by name (case-insensitive) or id: the first in order that matches."""
        index = self._lookups()
        found = _first(index.policy_names.get(fold(name.strip())), index.policy_ids.get(name))
        return None if found is None else self.policies[found]

    def policy(self, name: str) -> Policy:
        """A policy by name, or :class:`NotFound` naming it."""
        found = self.find_policy(name)
        if found is None:
            raise NotFound(f"no policy named {name!r}")
        return found

    def policy_of(self, segment: str) -> Policy | None:
        """The policy assigned to a segment, Active or Inactive (at most one, §4)."""
        found = self._lookups().policy_segments.get(fold(segment))
        return None if found is None else self.policies[found]

    def segment_policies(self) -> tuple[Policy | None, ...]:
        """:meth:`policy_of` of every segment, in segment order, in one pass (a lookup
        per segment is quadratic in the number of segments)."""
        by_key: dict[str, Policy] = {}
        for policy in self.policies:
            by_key.setdefault(fold(policy.segment), policy)
        return tuple(by_key.get(fold(s.name)) for s in self.segments)

    def active(self) -> BarrierConfig:
        """The part that an apply snapshots: every segment, only Active policies (§5)."""
        return replace(self, policies=tuple(p for p in self.policies if p.is_active))

    # -- tenant settings (§1) --------------------------------------------------
    def set_mode(self, mode: Mode) -> BarrierConfig:
        """``Set-PolicyConfig -InformationBarrierMode``."""
        if mode is self.mode:
            return self
        if self.mode is Mode.MULTI_SEGMENT:
            raise RuleViolation(
                "mode.from_multisegment", "a tenant in MultiSegment mode cannot change mode"
            )
        if self.segments or self.policies:
            raise RuleViolation(
                "mode.requires_empty",
                f"the mode can change only while the tenant has no segment and no policy "
                f"(it has {len(self.segments)} segment(s) and {len(self.policies)} policy(ies))",
            )
        if mode is Mode.LEGACY and not self.people_search_restriction:
            raise RuleViolation(
                "mode.legacy_search_restriction",
                "Legacy mode requires PeopleSearchRestriction Enabled",
            )
        return replace(self, mode=mode)

    def set_people_search_restriction(self, enabled: bool) -> BarrierConfig:
        """``Set-PolicyConfig -InformationBarrierPeopleSearchRestriction``; non-Legacy only."""
        if not enabled and self.mode is Mode.LEGACY:
            raise RuleViolation(
                "people_search.legacy",
                "PeopleSearchRestriction can be Disabled only outside Legacy mode",
            )
        return replace(self, people_search_restriction=enabled)

    # -- segments (§3) -----------------------------------------------------------
    def new_segment(self, name: str, filter_text: str, id: str | None = None) -> BarrierConfig:
        """``New-OrganizationSegment``."""
        name = _check_name("segment", name)
        if self.find_segment(name) is not None:
            raise RuleViolation("segment.name_unique", f"a segment named {name!r} already exists")
        limit = LIMITS[self.mode].max_segments
        if len(self.segments) >= limit:
            raise RuleViolation(
                "segment.limit", f"{self.mode.value} mode allows at most {limit} segments"
            )
        segment = Segment(id or new_id(), name, filter_text.strip(), parse_filter(filter_text))
        return replace(self, segments=(*self.segments, segment))

    def set_segment_filter(self, name: str, filter_text: str) -> BarrierConfig:
        """``Set-OrganizationSegment -UserGroupFilter``: only the filter can change."""
        old = self.segment(name)
        new = replace(old, filter=filter_text.strip(), expr=parse_filter(filter_text))
        return replace(self, segments=tuple(new if s is old else s for s in self.segments))

    def remove_segment(self, name: str) -> BarrierConfig:
        """``Remove-OrganizationSegment``; refused while a policy references it."""
        old = self.segment(name)
        users = [
            p.name
            for p in self.policies
            if fold(p.segment) == fold(old.name) or fold(old.name) in map(fold, p.segments)
        ]
        if users:
            raise RuleViolation(
                "segment.referenced",
                f"segment {old.name!r} is referenced by policy {', '.join(map(repr, users))}",
            )
        return replace(self, segments=tuple(s for s in self.segments if s is not old))

    # -- policies (§4) -----------------------------------------------------------
    def _segment_list(self, policy: str, names: Sequence[str]) -> tuple[str, ...]:
        if not names:
            raise RuleViolation(
                "policy.list_nonempty", f"policy {policy!r}: the segment list is empty"
            )
        seen: set[str] = set()
        resolved: list[str] = []
        for raw in names:
            segment = self.find_segment(raw)
            if segment is None:
                raise RuleViolation(
                    "policy.listed_segment_exists",
                    f"policy {policy!r}: no segment named {raw.strip()!r}",
                )
            if fold(segment.name) in seen:
                raise RuleViolation(
                    "policy.list_duplicate",
                    f"policy {policy!r}: segment {segment.name!r} is listed twice",
                )
            seen.add(fold(segment.name))
            resolved.append(segment.name)
        return tuple(resolved)

    def _check_kind(self, policy: str, kind: ListKind) -> None:
        if kind is ListKind.BLOCK and self.mode is Mode.MULTI_SEGMENT:
            raise RuleViolation(
                "policy.multisegment_allow_only",
                f"policy {policy!r}: MultiSegment mode allows only SegmentsAllowed lists",
            )

    def new_policy(
        self,
        name: str,
        segment: str,
        *,
        allowed: Sequence[str] | None = None,
        blocked: Sequence[str] | None = None,
        state: PolicyState = PolicyState.INACTIVE,
        moderation_allowed: bool = False,
        comment: str = "",
        id: str | None = None,
    ) -> BarrierConfig:
        """``New-InformationBarrierPolicy``: exactly one non-empty list of existing segments."""
        name = _check_name("policy", name)
        check_text("the policy comment", comment, MAX_COMMENT)
        if self.find_policy(name) is not None:
            raise RuleViolation("policy.name_unique", f"a policy named {name!r} already exists")
        if (allowed is None) == (blocked is None):
            raise RuleViolation(
                "policy.one_list",
                f"policy {name!r}: give exactly one of SegmentsAllowed and SegmentsBlocked",
            )
        assigned = self.find_segment(segment)
        if assigned is None:
            raise RuleViolation(
                "policy.segment_exists", f"policy {name!r}: no segment named {segment.strip()!r}"
            )
        existing = self.policy_of(assigned.name)
        if existing is not None:
            raise RuleViolation(
                "policy.one_per_segment",
                f"policy {name!r}: segment {assigned.name!r} already has policy "
                f"{existing.name!r} (at most one policy per segment, Active or Inactive)",
            )
        kind = ListKind.ALLOW if allowed is not None else ListKind.BLOCK
        self._check_kind(name, kind)
        listed = self._segment_list(name, allowed if allowed is not None else blocked or ())
        policy = Policy(
            id or new_id(), name, assigned.name, kind, listed, state, moderation_allowed, comment
        )
        return replace(self, policies=(*self.policies, policy))

    def set_policy(
        self,
        name: str,
        *,
        allowed: Sequence[str] | None = None,
        blocked: Sequence[str] | None = None,
        state: PolicyState | None = None,
        moderation_allowed: bool | None = None,
        comment: str | None = None,
    ) -> BarrierConfig:
        """``Set-InformationBarrierPolicy``: list (the other kind replaces it), state, comment."""
        old = self.policy(name)
        if allowed is not None and blocked is not None:
            raise RuleViolation(
                "policy.one_list",
                f"policy {old.name!r}: give exactly one of SegmentsAllowed and SegmentsBlocked",
            )
        new = old
        if allowed is not None or blocked is not None:
            kind = ListKind.ALLOW if allowed is not None else ListKind.BLOCK
            self._check_kind(old.name, kind)
            listed = self._segment_list(old.name, allowed if allowed is not None else blocked or ())
            new = replace(new, kind=kind, segments=listed)
        if state is not None:
            new = replace(new, state=state)
        if moderation_allowed is not None:
            new = replace(new, moderation_allowed=moderation_allowed)
        if comment is not None:
            new = replace(new, comment=check_text("the policy comment", comment, MAX_COMMENT))
        return replace(self, policies=tuple(new if p is old else p for p in self.policies))

    def remove_policy(self, name: str) -> BarrierConfig:
        """``Remove-InformationBarrierPolicy``."""
        old = self.policy(name)
        return replace(self, policies=tuple(p for p in self.policies if p is not old))

    # -- advice --------------------------------------------------------------------
    def warnings(self) -> list[str]:
        """Valid but surprising settings (see :func:`policy_warning`)."""
        return [w for w in map(policy_warning, self.policies) if w is not None]


def policy_warning(policy: Policy) -> str | None:
    """An allow list that omits its own segment is valid but cuts its members off (§4)."""
    if policy.kind is ListKind.ALLOW and fold(policy.segment) not in map(fold, policy.segments):
        return (
            f"policy {policy.name!r}: the allow list omits its own segment {policy.segment!r}, "
            "so members of that segment cannot reach each other"
        )
    return None
