"""One person as the barrier sees them: why they are in each segment, whom they can reach
segment by segment, and what would change a verdict (semantics §3, §6, §12).

Pure: the epoch in force, the directory and the verdicts come in; sentences and rows go
out. The reach is aggregated by *profile* (the set of segments a user is in), so a
person's page costs one verdict per profile, never one per user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from infobarrier.core.barriers import BarrierConfig, ListKind
from infobarrier.core.codes import VerdictCode
from infobarrier.core.contract import Verdict
from infobarrier.core.decisions import NO_SEGMENT, compatibility
from infobarrier.core.directory import Directory, User, fold
from infobarrier.core.epoch import Epoch
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Or, quote
from infobarrier.core.filters.evaluate import compare
from infobarrier.core.patch import user_values


@dataclass(frozen=True, slots=True)
class Cause:
    """A comparison of a segment's filter that holds for the user, with their values; for
    ``MemberOf``, the groups whose name, mail or id matched."""

    comparison: str
    attribute: str
    values: tuple[str, ...]
    groups: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "comparison": self.comparison,
            "attribute": self.attribute,
            "values": list(self.values),
            "groups": list(self.groups),
        }


def _text(c: Comparison) -> str:
    return f"{c.attribute} {c.op.value} {quote(c.value)}"


def _holding(expr: Expr, values: dict[str, list[str]], negated: bool = False) -> list[Comparison]:
    """The comparisons that make ``expr`` hold (or, under ``-not``, fail) for the user."""
    if isinstance(expr, Comparison):
        hit = compare(expr, values.get(expr.attribute, []))
        return [expr] if hit != negated else []
    if isinstance(expr, Not):
        return _holding(expr.operand, values, not negated)
    assert isinstance(expr, And | Or)
    found: list[Comparison] = []
    for operand in expr.operands:
        found.extend(_holding(operand, values, negated))
    return found


def causes(config: BarrierConfig, segment: str, user: User, directory: Directory) -> list[Cause]:
    """Why ``user`` is in ``segment``: the comparisons of its filter that hold for them."""
    found = config.find_segment(segment)
    if found is None:
        return []
    groups = directory.groups_of(user.id)
    values = user_values(user, [n for g in groups for n in g.names()])
    out: list[Cause] = []
    for c in _holding(found.expr, values):
        matched: tuple[str, ...] = ()
        if c.attribute == "MemberOf":
            matched = tuple(
                g.display_name for g in groups if any(compare(c, [n]) for n in g.names())
            )
        out.append(Cause(_text(c), c.attribute, tuple(values.get(c.attribute, [])), matched))
    return out


def _why(config: BarrierConfig, segment: str, user: User, directory: Directory) -> str:
    """A short clause saying what puts ``user`` in ``segment``."""
    found = causes(config, segment, user, directory)
    parts = []
    for c in found:
        if c.groups:
            parts.append(f"member of group {', '.join(map(repr, c.groups))}")
        elif c.values:
            parts.append(f"{c.attribute} is {', '.join(map(repr, c.values))}")
        else:
            parts.append(f"{c.comparison}")
    return "; ".join(parts) if parts else "its filter matches"


def _leave(config: BarrierConfig, segment: str, user: User, directory: Directory) -> str:
    """How ``user`` could leave ``segment``: the group to leave or the attribute to change."""
    found = causes(config, segment, user, directory)
    groups = [g for c in found for g in c.groups]
    if groups:
        return f"remove {user.upn} from group {', '.join(map(repr, groups))}"
    attrs = sorted({c.attribute for c in found})
    if attrs:
        return (
            f"change {user.upn}'s {', '.join(attrs)} so that segment {segment!r} no longer matches"
        )
    return f"change {user.upn}'s attributes so that segment {segment!r} no longer matches"


def fixes(
    epoch: Epoch, directory: Directory, verdict: Verdict, config: BarrierConfig | None = None
) -> list[str]:
    """Suggested changes that would turn a refusal into an allow (§6), in plain words.

    A conflict names the group (or attribute) that puts the person in each extra segment;
    a policy refusal names the list to change and, as the alternative, what puts the
    person in the segment the policy speaks for.
    """
    if verdict.allowed or verdict.pair is None:
        return []
    config = config or epoch.config
    users = []
    for upn in verdict.pair:
        i = epoch.index_of(upn)
        if i is not None:
            users.append((i, directory.user(epoch.user_ids[i])))
    out: list[str] = []
    code = verdict.code
    if code == VerdictCode.ACCOUNT_DISABLED:
        out.extend(
            f"enable {u.upn}'s account (disabled accounts reach nobody)"
            for _, u in users
            if not u.account_enabled
        )
    elif code == VerdictCode.POLICY_CONFLICT:
        for i, u in users:
            if not epoch.in_conflict(i):
                continue
            segments = epoch.segments_of(i)
            reasons = [f"{s} ({_why(config, s, u, directory)})" for s in segments]
            out.append(
                f"{u.upn} is in {len(segments)} segments: {'; '.join(reasons)}. "
                f"{epoch.mode.value} mode allows one: "
                + ", or ".join(_leave(config, s, u, directory) for s in segments)
            )
    elif code == VerdictCode.HIDDEN:
        out.extend(
            f"set HiddenFromAddressListsEnabled to false for {u.upn} (Legacy mode blocks hidden "
            "users)"
            for i, u in users
            if epoch.is_hidden(i)
        )
    elif code in (VerdictCode.BLOCKED_BY_POLICY, VerdictCode.BLOCKED_UNSEGMENTED):
        policy = config.find_policy(verdict.policy) if verdict.policy else None
        segment = verdict.segment or (policy.segment if policy else None)
        mine = [(i, u) for i, u in users if segment and segment in epoch.segments_of(i)]
        others = [(i, u) for i, u in users if (i, u) not in mine]
        targets = sorted({s for i, _ in others for s in epoch.segments_of(i)})
        if policy is not None and targets:
            names = ", ".join(map(repr, targets))
            if policy.kind is ListKind.ALLOW:
                out.append(f"add {names} to the allow list of policy {policy.name!r}")
            else:
                out.append(f"remove {names} from the block list of policy {policy.name!r}")
            for t in targets:
                back = config.policy_of(t)
                if (
                    back is not None
                    and back.kind is ListKind.ALLOW
                    and fold(segment or "") not in {fold(s) for s in back.segments}
                ):
                    out.append(
                        f"and add {segment!r} to the allow list of policy {back.name!r} "
                        "(a barrier works both ways, §6)"
                    )
        elif policy is not None:
            out.append(
                f"put {', '.join(u.upn for _, u in others)} in a segment that policy "
                f"{policy.name!r} allows, or give segment {segment!r} a block list"
            )
        for _, u in mine:
            if segment:
                why = _why(config, segment, u, directory)
                leave = _leave(config, segment, u, directory)
                out.append(f"or move {u.upn} out of segment {segment!r} ({why}): {leave}")
    if verdict.policy is None and code == VerdictCode.BLOCKED_UNSEGMENTED and not out:
        out.append("put the unsegmented user in a segment, or open the other segment's policy")
    return out


@dataclass(frozen=True, slots=True)
class ReachRow:
    """The users of one profile (a set of segments) and whether the person reaches them."""

    segments: tuple[str, ...]
    users: int
    allowed: bool
    code: str
    reason: str
    policy: str | None

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "segments": list(self.segments) or [NO_SEGMENT],
            "users": self.users,
            "allowed": self.allowed,
            "code": self.code,
            "reason": self.reason,
            "policy": self.policy,
        }


def reach_rows(epoch: Epoch, me: int) -> list[ReachRow]:
    """Per profile with usable users other than ``me``: the verdict between ``me`` and
    them (§6, segments and policies; exceptions are per pair and not counted), blocked
    rows first, then by size."""
    usable = epoch.usable_array().copy()
    usable[me] = False
    profiles = epoch.profile_array()
    counts = np.bincount(profiles[usable], minlength=len(epoch.profiles))
    candidates = np.flatnonzero(usable)
    first: dict[int, int] = {}
    if len(candidates):
        found, at = np.unique(profiles[candidates], return_index=True)
        first = {int(p): int(candidates[k]) for p, k in zip(found, at, strict=True)}
    rows: list[ReachRow] = []
    for p, rep in first.items():
        v = compatibility(epoch, me, rep)
        names = tuple(epoch.segment_names[s] for s in epoch.profiles[p])
        rows.append(ReachRow(names, int(counts[p]), v.allowed, str(v.code), v.reason, v.policy))
    rows.sort(key=lambda r: (r.allowed, -r.users, r.segments))
    return rows


def segment_members(epoch: Epoch, segment: str) -> Sequence[int]:
    """The epoch's users in ``segment`` (by index, in epoch order)."""
    key = fold(segment)
    wanted = [k for k, n in enumerate(epoch.segment_names) if fold(n) == key]
    if not wanted:
        return []
    s = wanted[0]
    inside = np.array([s in prof for prof in epoch.profiles], dtype=np.bool_)
    result: Sequence[int] = np.flatnonzero(inside[epoch.profile_array()]).tolist()
    return result
