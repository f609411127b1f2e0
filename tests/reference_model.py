"""A small, obviously-correct reference for semantics §3 and §6, for property tests and benchmarks.

It reads docs/semantics.md literally, user by user and pair by pair, sharing nothing with the
engine but the parsed filter tree and the data classes. It is slow on purpose: clarity
is its only job.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from infobarrier.core.barriers import BarrierConfig, ListKind, Mode
from infobarrier.core.directory import Directory, User, UserType
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op, Or

MAX_PER_USER = {Mode.LEGACY: 1, Mode.SINGLE_SEGMENT: 1, Mode.MULTI_SEGMENT: 10}


def values(directory: Directory, user: User, attribute: str) -> list[str]:
    """The non-empty values of an attribute (semantics §2, §3)."""
    if attribute == "MemberOf":
        found = []
        for group in directory.groups():
            if user.id in group.members:
                found += [group.display_name, group.mail, group.id]
    elif attribute == "ProxyAddresses":
        found = list(user.proxy_addresses)
    elif attribute == "UserPrincipalName":
        found = [user.upn]
    elif attribute == "Mail":
        found = [user.mail]
    else:
        found = [user.attributes.get(attribute, "")]
    return [v for v in found if v != ""]


def like(value: str, pattern: str) -> bool:
    """``*`` is the only wildcard; everything else is literal, case-insensitively."""
    escaped = "".join("[" + c + "]" if c in "?[]" else c for c in pattern.casefold())
    return fnmatchcase(value.casefold(), escaped)


def holds(expr: Expr, directory: Directory, user: User) -> bool:
    """Whether a user satisfies a filter, straight from §3."""
    if isinstance(expr, Not):
        return not holds(expr.operand, directory, user)
    if isinstance(expr, And):
        return all(holds(e, directory, user) for e in expr.operands)
    if isinstance(expr, Or):
        return any(holds(e, directory, user) for e in expr.operands)
    assert isinstance(expr, Comparison)
    vals = values(directory, user, expr.attribute)
    if expr.op in (Op.EQ, Op.NE):
        if expr.value == "":
            equal = len(vals) == 0
        else:
            equal = any(v.casefold() == expr.value.casefold() for v in vals)
        return equal if expr.op is Op.EQ else not equal
    matched = any(like(v, expr.value) for v in vals)
    return matched if expr.op is Op.LIKE else not matched


def segments_of(directory: Directory, config: BarrierConfig, user: User) -> list[str]:
    """Names of the segments whose filter the user satisfies, in config order."""
    return [s.name for s in config.segments if holds(s.expr, directory, user)]


def _policy(config: BarrierConfig, segment: str):  # type: ignore[no-untyped-def]
    for p in config.policies:
        if p.is_active and p.segment.casefold() == segment.casefold():
            return p
    return None


def permits(config: BarrierConfig, s: str, t: str) -> bool:
    """``permits(s, t)`` of §6."""
    p = _policy(config, s)
    if p is None:
        return True
    listed = t.casefold() in [x.casefold() for x in p.segments]
    return listed if p.kind is ListKind.ALLOW else not listed


def is_open(config: BarrierConfig, s: str) -> bool:
    """``open(s)`` of §6."""
    p = _policy(config, s)
    return p is None or p.kind is ListKind.BLOCK or config.mode is not Mode.LEGACY


def hidden(user: User) -> bool:
    """HiddenFromAddressListsEnabled; when not set, true for guests."""
    if user.hidden_from_address_lists is None:
        return user.user_type is UserType.GUEST
    return user.hidden_from_address_lists


def compatible(directory: Directory, config: BarrierConfig, u: User, v: User) -> bool:
    """``compatible(u, v)`` of §6, line by line. ``config`` is the applied one."""
    if u.id == v.id:
        return True
    if not u.account_enabled or not v.account_enabled:
        return False
    su = segments_of(directory, config, u)
    sv = segments_of(directory, config, v)
    limit = MAX_PER_USER[config.mode]
    if len(su) > limit or len(sv) > limit:
        return False
    if config.mode is Mode.LEGACY and (hidden(u) or hidden(v)):
        return False
    if not su and not sv:
        return True
    if not sv:
        return all(is_open(config, s) for s in su)
    if not su:
        return all(is_open(config, s) for s in sv)
    return any(permits(config, a, b) and permits(config, b, a) for a in su for b in sv)
