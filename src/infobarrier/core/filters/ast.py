"""Syntax tree of a parsed filter. Attribute names are canonical (see ``core.attributes``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Op(StrEnum):
    """The four comparison operators of semantics §3."""

    EQ = "-eq"
    NE = "-ne"
    LIKE = "-like"
    NOTLIKE = "-notlike"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``Attr -op 'value'``; ``position`` is the 1-based column of the attribute."""

    attribute: str
    op: Op
    value: str
    #: Where it stood in the text; not part of the value (a rendered filter re-parses equal).
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``-not`` applied to the comparison or parenthesised group that follows it."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    """Two or more operands joined by ``-and``."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Two or more operands joined by ``-or``."""

    operands: tuple[Expr, ...]


Expr = Comparison | Not | And | Or


def attributes_of(expr: Expr) -> set[str]:
    """The canonical attributes an expression reads."""
    if isinstance(expr, Comparison):
        return {expr.attribute}
    if isinstance(expr, Not):
        return attributes_of(expr.operand)
    found: set[str] = set()
    for operand in expr.operands:
        found |= attributes_of(operand)
    return found


def quote(value: str) -> str:
    """Render a value in single quotes, doubling embedded quotes (PowerShell style)."""
    return "'" + value.replace("'", "''") + "'"


def render(expr: Expr) -> str:
    """Canonical text of an expression; parsing it gives back an equal tree."""
    if isinstance(expr, Comparison):
        return f"{expr.attribute} {expr.op.value} {quote(expr.value)}"
    if isinstance(expr, Not):
        return f"-not ({render(expr.operand)})"
    joiner = " -and " if isinstance(expr, And) else " -or "
    return joiner.join(f"({render(o)})" for o in expr.operands)
