"""The ``UserGroupFilter`` language (semantics §3): parse, evaluate, render."""

from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op, Or
from infobarrier.core.filters.evaluate import matches, wildcard_matcher
from infobarrier.core.filters.parser import parse_filter

__all__ = [
    "And",
    "Comparison",
    "Expr",
    "Not",
    "Op",
    "Or",
    "matches",
    "parse_filter",
    "wildcard_matcher",
]
