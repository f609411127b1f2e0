"""Evaluate a filter against one user (semantics §3).

This is the per-user path, used when one user changes; whole directories are compiled
with bitset algebra in ``core.compiler``. Both follow the same rules, and a property test
checks both against a naive reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op

#: Returns the non-empty values of a canonical attribute for one user.
ValuesOf = Callable[[str], Sequence[str]]


def glob_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern``, where ``*`` matches any run of characters.

    Linear time, without backtracking: the pattern is split at ``*`` into literal
    pieces; the first must start the value, the last must end it, and each piece in
    between is found by ``str.find`` left to right after the previous one. Taking the
    leftmost occurrence of each middle piece is always safe (any later occurrence
    leaves less room for the pieces after it), so one pass decides the match. The
    cost is one scan of the value per piece, never the exponential blow-up of a
    backtracking regex such as ``.*a.*b.*c`` on a long value. Both arguments are
    compared as given (callers fold them).
    """
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == value
    head, *middle, tail = pieces
    if len(head) + len(tail) > len(value):
        return False
    if not value.startswith(head) or not value.endswith(tail):
        return False
    position, end = len(head), len(value) - len(tail)
    for piece in middle:
        if not piece:
            continue
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@lru_cache(maxsize=4096)
def wildcard_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive matcher for a ``-like`` pattern; ``*`` is the only wildcard.

    Linear in the value's length (:func:`glob_match`); no regular expression is built.
    """
    folded = pattern.casefold()

    def match(value: str) -> bool:
        return glob_match(folded, value.casefold())

    return match


@lru_cache(maxsize=4096)
def folded_matcher(pattern: str) -> Callable[[str], bool]:
    """:func:`wildcard_matcher` for values that are already case-folded (the columns')."""
    folded = pattern.casefold()
    if "*" not in folded:
        return folded.__eq__

    def match(value: str) -> bool:
        return glob_match(folded, value)

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
