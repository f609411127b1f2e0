"""Tiny builders for hand-made tenants used by the core tests.

``tenant(users={"alice": {"department": "Sales"}}, segments={"S": "Department -eq 'Sales'"})``
builds a directory (UPNs ``<name>@contoso.com``), a barrier configuration through
``BarrierConfig``'s own methods, and compiles the epoch. Every verdict a test reads
through :meth:`Tenant.verdict` is cross-checked against ``compatible_many`` and the
naive reference model, so each hand-built scenario also tests the three against each
other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import reference_model
from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.contract import Verdict
from infobarrier.core.decisions import compatibility, compatible_many
from infobarrier.core.directory import Directory, Group, User, make_user
from infobarrier.core.epoch import Epoch

DOMAIN = "contoso.com"


def upn(name: str) -> str:
    """The UPN of a short user name."""
    return f"{name}@{DOMAIN}"


@dataclass(frozen=True)
class PolicySpec:
    """A policy to create for a segment: kind, list and state."""

    kind: ListKind
    segments: tuple[str, ...]
    state: PolicyState = PolicyState.ACTIVE


def allow(*segments: str, state: PolicyState = PolicyState.ACTIVE) -> PolicySpec:
    """An allow-list policy (``-SegmentsAllowed``)."""
    return PolicySpec(ListKind.ALLOW, segments, state)


def block(*segments: str, state: PolicyState = PolicyState.ACTIVE) -> PolicySpec:
    """A block-list policy (``-SegmentsBlocked``)."""
    return PolicySpec(ListKind.BLOCK, segments, state)


def make_directory(
    users: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Sequence[str]] | None = None
) -> Directory:
    """Users by short name; options ``enabled``, ``guest``, ``hidden``, ``proxy``, ``mail``,
    anything else is an attribute keyword of ``make_user``. Groups by display name (mail
    ``<name>@contoso.com``, id ``group-<name>``) to their members' short names."""
    directory = Directory()
    for name, options in users.items():
        opts = dict(options)
        directory.put_user(
            make_user(
                upn(name),
                id=f"id-{name}",
                display_name=name.title(),
                account_enabled=opts.pop("enabled", True),
                user_type="Guest" if opts.pop("guest", False) else "Member",
                hidden_from_address_lists=opts.pop("hidden", None),
                proxy_addresses=opts.pop("proxy", ()),
                mail=opts.pop("mail", ""),
                **opts,
            )
        )
    for group_name, members in (groups or {}).items():
        directory.put_group(
            Group(
                id=f"group-{group_name.lower()}",
                display_name=group_name,
                mail=f"{group_name.lower()}@{DOMAIN}",
                members=frozenset(f"id-{m}" for m in members),
            )
        )
    return directory


def make_config(
    mode: Mode = Mode.SINGLE_SEGMENT,
    segments: Mapping[str, str] | None = None,
    policies: Mapping[str, PolicySpec] | None = None,
) -> BarrierConfig:
    """A configuration built with ``BarrierConfig``'s own methods; policy ``P-<segment>``."""
    config = BarrierConfig().set_mode(mode)
    for name, text in (segments or {}).items():
        config = config.new_segment(name, text)
    for segment, spec in (policies or {}).items():
        listed = list(spec.segments)
        config = config.new_policy(
            f"P-{segment}",
            segment,
            allowed=listed if spec.kind is ListKind.ALLOW else None,
            blocked=listed if spec.kind is ListKind.BLOCK else None,
            state=spec.state,
        )
    return config


@dataclass
class Tenant:
    """A directory, its configuration and the compiled epoch."""

    directory: Directory
    config: BarrierConfig
    epoch: Epoch

    def ix(self, name: str) -> int:
        """Epoch index of a short user name."""
        index = self.epoch.index_of(upn(name))
        assert index is not None, name
        return index

    def user(self, name: str) -> User:
        """The directory user of a short name."""
        return self.directory.by_upn(upn(name))

    def segments(self, name: str) -> tuple[str, ...]:
        """The segments the epoch puts a user in."""
        return self.epoch.segments_of(self.ix(name))

    def verdict(self, a: str, b: str) -> Verdict:
        """``compatibility`` of two users, cross-checked with the fast path and the reference."""
        i, j = self.ix(a), self.ix(b)
        verdict = compatibility(self.epoch, i, j)
        fast = compatible_many(self.epoch, np.array([i]), np.array([j]))
        assert bool(fast[0]) == verdict.allowed, (a, b, verdict)
        expected = reference_model.compatible(
            self.directory, self.config, self.user(a), self.user(b)
        )
        assert verdict.allowed == expected, (a, b, verdict)
        return verdict

    def allowed(self, a: str, b: str) -> bool:
        """Both orders of a pair, which must agree (enforcement is two-way, §4)."""
        forward, backward = self.verdict(a, b), self.verdict(b, a)
        assert forward.allowed == backward.allowed, (forward, backward)
        return forward.allowed


def tenant(
    users: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, Sequence[str]] | None = None,
    *,
    mode: Mode = Mode.SINGLE_SEGMENT,
    segments: Mapping[str, str] | None = None,
    policies: Mapping[str, PolicySpec] | None = None,
) -> Tenant:
    """Build and compile a small tenant in one call."""
    directory = make_directory(users, groups)
    config = make_config(mode, segments, policies)
    return Tenant(directory, config, compile_epoch(directory, config))
