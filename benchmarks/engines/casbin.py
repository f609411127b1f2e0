"""Casbin (``pycasbin``), with the rule of semantics §6 as an RBAC model.

Users are subjects named by UPN; their roles (grouping policy ``g``) are their segments
(``seg:<k>``), plus ``role:blocked`` for a disabled user or one in ``IBPolicyConflict``
(the loader computes it: Casbin cannot count roles) and ``role:unseg`` for a user in no
segment. Policies are loaded through an in-memory adapter (``Enforcer.add_policies``
checks each new rule against every rule already loaded: quadratic at this size). The
request is ``enforce(upn_u, upn_v)``.

Two models were written; both agree with the reference on every sampled pair:

``ALLOW`` (the default, ``casbin``; the faster, and the only one that can express
MultiSegment's "some pair of segments")::

    [policy_effect]  e = some(where (p.eft == allow))
    [matchers]       m = r.sub == r.obj || (!g(r.sub, "role:blocked") && !g(r.obj, "role:blocked")
                         && g(r.sub, p.sub) && g(r.obj, p.obj))

with one rule per segment ``p, seg:a, ok:a`` and a role ``ok:a`` granted to every segment
``b`` mutually permitted with ``a`` (``g, seg:b, ok:a``; the segment relation read from the
policies, as infobarrier's compiler does), plus ``p, role:unseg, role:all`` and
``p, role:all, role:unseg`` (outside Legacy mode every segment is open).

``DENY`` (``casbin-deny``, SingleSegment only): the information-barrier policies
transcribed one to one, with deny overriding::

    [policy_effect]  e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
    [matchers]       m = (r.sub == r.obj && p.eft == "allow")
                         || (r.sub != r.obj && g(r.sub, p.sub) && g(r.obj, p.obj))

rules ``p, role:all, role:all, allow``, ``p, role:blocked, role:all, deny`` (and its
mirror), for a block list of ``a`` naming ``t``: ``p, seg:a, seg:t, deny`` and
``p, seg:t, seg:a, deny``; for an allow list of ``a``: ``p, seg:a, outside:a, deny`` and
its mirror, where ``outside:a`` is granted to every segment the list does not name.

pycasbin evaluates the matcher (a ``simpleeval`` expression) once per rule, and each
``g`` is a breadth-first search through the role graph: the cost of one question grows
with the number of rules times the roles a segment holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import casbin
import numpy as np
from casbin import persist

from benchmarks.engines import Engine
from infobarrier.core.barriers import LIMITS, ListKind, Mode
from infobarrier.core.directory import User, fold
from infobarrier.core.patch import segments_of_user

ALLOW_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == r.obj || (!g(r.sub, "role:blocked") && !g(r.obj, "role:blocked") \
&& g(r.sub, p.sub) && g(r.obj, p.obj))
"""

DENY_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (r.sub == r.obj && p.eft == "allow") || (r.sub != r.obj && g(r.sub, p.sub) \
&& g(r.obj, p.obj))
"""

#: Above this many grouping links the role graph takes too long to load here.
MAX_LINKS = 3_000_000


class MemoryAdapter(persist.Adapter):  # type: ignore[misc]
    """Loads prepared rules straight into the model, as a database adapter would."""

    def __init__(self, rules: list[list[str]], links: list[list[str]]) -> None:
        self.rules = rules
        self.links = links

    def load_policy(self, model: Any) -> None:
        model.model["p"]["p"].policy.extend(self.rules)
        model.model["g"]["g"].policy.extend(self.links)


def _seg(s: int) -> str:
    return f"seg:{s}"


class Casbin(Engine):
    """Casbin's RBAC over the mutual segment relation (allow model)."""

    name = "casbin"
    deny: ClassVar[bool] = False
    model = (
        "pycasbin RBAC: users → seg:k roles; one allow rule per segment `p, seg:a, ok:a` "
        "with ok:a granted to the segments mutually permitted with a; role:blocked for "
        "disabled/conflict users"
    )

    def _segment_links(self) -> list[list[str]]:
        epoch = self.epoch
        mutual = epoch.permits & epoch.permits.T
        return [
            [_seg(b), f"ok:{a}"]
            for a in range(len(epoch.config.segments))
            for b in np.flatnonzero(mutual[a]).tolist()
        ]

    def _link_count(self) -> int:
        mutual = self.epoch.permits & self.epoch.permits.T
        return int(mutual.sum())

    def unsupported(self) -> str | None:
        if self.epoch.mode is Mode.LEGACY:
            return "Legacy mode is not modelled"
        links = self._link_count()
        if links + len(self.epoch) > MAX_LINKS:
            return f"{links + len(self.epoch):,} grouping links: too large to load"
        return None

    def _rules(self) -> list[list[str]]:
        rules = [["role:unseg", "role:all"], ["role:all", "role:unseg"]]
        rules += [[_seg(a), f"ok:{a}"] for a in range(len(self.epoch.config.segments))]
        return rules

    def _user_links(self, upn: str, enabled: bool, segments: Sequence[int]) -> list[list[str]]:
        limit = LIMITS[self.epoch.mode].max_segments_per_user
        links = [[upn, "role:all"]]
        if not enabled or len(segments) > limit:
            links.append([upn, "role:blocked"])
        if not segments:
            links.append([upn, "role:unseg"])
        links += [[upn, _seg(s)] for s in segments]
        return links

    def build(self) -> None:
        epoch = self.epoch
        links = self._segment_links()
        profiles = epoch.profiles
        user_links = self._user_links
        for upn, enabled, profile in zip(
            epoch.upns, epoch.enabled.tolist(), epoch.profile_of.tolist(), strict=True
        ):
            links += user_links(upn, enabled, profiles[profile])
        text = DENY_MODEL if self.deny else ALLOW_MODEL
        model = casbin.Enforcer.new_model(text=text)
        self.enforcer = casbin.Enforcer(model, MemoryAdapter(self._rules(), links))
        logging.getLogger("casbin").setLevel(logging.ERROR)
        logging.getLogger("casbin.policy").setLevel(logging.ERROR)
        logging.getLogger("casbin.role").setLevel(logging.ERROR)

    def handles(self, indices: Sequence[int]) -> list[Any]:
        upns = self.epoch.upns
        return [upns[int(i)] for i in indices]

    def decide(self, a: Any, b: Any) -> bool:
        return bool(self.enforcer.enforce(a, b))

    def decide_upn(self, a: str, b: str) -> bool:
        return bool(self.enforcer.enforce(a.strip().lower(), b.strip().lower()))

    def decide_many(self, prepared: Any) -> Sequence[bool]:
        return [bool(x) for x in self.enforcer.batch_enforce(prepared)]

    def change(self, index: int, user: User, member_of: Sequence[str]) -> None:
        """Replace the user's roles through the management API."""
        segments = segments_of_user(self.epoch, user, member_of)
        enforcer = self.enforcer
        enforcer.delete_roles_for_user(user.upn)
        enforcer.add_grouping_policies(self._user_links(user.upn, user.account_enabled, segments))


class CasbinDeny(Casbin):
    """Casbin's RBAC with deny overriding: the IB policies transcribed one to one."""

    name = "casbin-deny"
    deny = True
    model = (
        "pycasbin RBAC with deny: users → seg:k roles; two deny rules per listed segment "
        "of a block list, two per allow list (against role outside:a)"
    )

    def unsupported(self) -> str | None:
        if self.epoch.mode is not Mode.SINGLE_SEGMENT:
            return "deny-override cannot express MultiSegment's 'some pair' rule"
        links = self._link_count()
        if links + len(self.epoch) > MAX_LINKS:
            return f"{links + len(self.epoch):,} grouping links: too large to load"
        return None

    def _link_count(self) -> int:
        count = len(self.epoch.config.segments)
        return sum(
            count - len(p.segments) for p in self.epoch.config.policies if p.kind is ListKind.ALLOW
        )

    def _segment_links(self) -> list[list[str]]:
        index = {fold(s.name): k for k, s in enumerate(self.epoch.config.segments)}
        count = len(self.epoch.config.segments)
        links: list[list[str]] = []
        for policy in self.epoch.config.policies:
            if policy.kind is not ListKind.ALLOW:
                continue
            a = index[fold(policy.segment)]
            listed = {index[fold(n)] for n in policy.segments}
            links += [[_seg(b), f"outside:{a}"] for b in range(count) if b not in listed]
        return links

    def _rules(self) -> list[list[str]]:
        index = {fold(s.name): k for k, s in enumerate(self.epoch.config.segments)}
        rules = [
            ["role:all", "role:all", "allow"],
            ["role:blocked", "role:all", "deny"],
            ["role:all", "role:blocked", "deny"],
        ]
        for policy in self.epoch.config.policies:
            a = index[fold(policy.segment)]
            if policy.kind is ListKind.BLOCK:
                for name in policy.segments:
                    t = index[fold(name)]
                    rules += [[_seg(a), _seg(t), "deny"], [_seg(t), _seg(a), "deny"]]
            else:
                outside = f"outside:{a}"
                rules += [[_seg(a), outside, "deny"], [outside, _seg(a), "deny"]]
        return rules
