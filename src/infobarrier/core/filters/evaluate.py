"""Evaluate a filter against one user (semantics §3).

This is the per-user path, used when one user changes; whole directories are compiled
with bitset algebra in ``core.compiler``. Both follow the same rules, and a property test
checks both against a naive reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op

#: Returns the non-empty values of a canonical attribute for one user.
ValuesOf = Callable[[str], Sequence[str]]


@lru_cache(maxsize=4096)
def wildcard_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive matcher for a ``-like`` pattern; ``*`` is the only wildcard."""
    regex = ".*".join(re.escape(part) for part in pattern.casefold().split("*"))
    compiled = re.compile(regex, re.DOTALL)

    def match(value: str) -> bool:
        return compiled.fullmatch(value.casefold()) is not None

    return match


@lru_cache(maxsize=4096)
def folded_matcher(pattern: str) -> Callable[[str], bool]:
    """:func:`wildcard_matcher` for values that are already case-folded (the columns')."""
    regex = ".*".join(re.escape(part) for part in pattern.casefold().split("*"))
    fullmatch = re.compile(regex, re.DOTALL).fullmatch

    def match(value: str) -> bool:
        return fullmatch(value) is not None

    return match


def compare(comparison: Comparison, values: Sequence[str]) -> bool:
    """One comparison against the non-empty values of an attribute."""
    op, target = comparison.op, comparison.value
    if op in (Op.EQ, Op.NE):
        if target == "":
            hit = not values
        else:
            folded = target.casefold()
            hit = any(v.casefold() == folded for v in values)
        return hit if op is Op.EQ else not hit
    matcher = wildcard_matcher(target)
    hit = any(matcher(v) for v in values)
    return hit if op is Op.LIKE else not hit


def matches(expr: Expr, values_of: ValuesOf) -> bool:
    """Whether a user, seen through ``values_of``, satisfies the filter."""
    if isinstance(expr, Comparison):
        return compare(expr, values_of(expr.attribute))
    if isinstance(expr, Not):
        return not matches(expr.operand, values_of)
    if isinstance(expr, And):
        return all(matches(o, values_of) for o in expr.operands)
    return any(matches(o, values_of) for o in expr.operands)
