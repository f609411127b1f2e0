"""Recursive-descent parser for the OPATH subset of semantics §3.

Grammar (precedence ``-not`` > ``-and`` > ``-or``)::

    filter     := or_expr END
    or_expr    := and_expr ("-or" and_expr)*
    and_expr   := not_expr ("-and" not_expr)*
    not_expr   := "-not" not_expr | primary
    primary    := "(" or_expr ")" | comparison
    comparison := ATTRIBUTE OPERATOR STRING

Every error names the 1-based column and what was expected there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from infobarrier.core.attributes import canonical_attribute
from infobarrier.core.errors import FilterSyntaxError
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op, Or
from infobarrier.core.limits import MAX_FILTER


class Kind(Enum):
    """Token kinds."""

    LPAREN = "("
    RPAREN = ")"
    DASHWORD = "operator"
    STRING = "string"
    WORD = "word"
    END = "end of filter"


@dataclass(frozen=True, slots=True)
class Token:
    """A token with its text (a string's unquoted value) and 1-based column."""

    kind: Kind
    text: str
    column: int


_OPERATORS = {op.value: op for op in Op}
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens, or raise :class:`FilterSyntaxError` with the column."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(Kind.LPAREN if ch == "(" else Kind.RPAREN, ch, i + 1))
            i += 1
        elif ch in "'\"":
            start, quote, i = i, ch, i + 1
            parts: list[str] = []
            while True:
                if i >= n:
                    raise FilterSyntaxError(
                        f"unterminated string: the {quote} at column {start + 1} is never closed",
                        start + 1,
                        text,
                    )
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:  # doubled quote = literal quote
                        parts.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                parts.append(text[i])
                i += 1
            tokens.append(Token(Kind.STRING, "".join(parts), start + 1))
        elif ch == "-":
            start = i
            i += 1
            while i < n and text[i].isalpha():
                i += 1
            tokens.append(Token(Kind.DASHWORD, text[start:i].lower(), start + 1))
        elif ch in _WORD_CHARS:
            start = i
            while i < n and text[i] in _WORD_CHARS:
                i += 1
            tokens.append(Token(Kind.WORD, text[start:i], start + 1))
        else:
            raise FilterSyntaxError(f"unexpected character {ch!r}", i + 1, text)
    tokens.append(Token(Kind.END, "", n + 1))
    return tokens


#: Deepest nesting of parentheses and ``-not`` accepted; deeper is an error, not a crash.
MAX_DEPTH = 100


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    def nest(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(
                f"nesting deeper than {MAX_DEPTH} levels of parentheses or -not",
                tok.column,
                self.text,
            )

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def fail(self, tok: Token, expected: str) -> FilterSyntaxError:
        found = "the end of the filter" if tok.kind is Kind.END else repr(tok.text)
        if tok.kind is Kind.STRING:
            found = f"the string {tok.text!r}"
        return FilterSyntaxError(f"expected {expected}, found {found}", tok.column, self.text)

    def is_dashword(self, word: str) -> bool:
        return self.peek.kind is Kind.DASHWORD and self.peek.text == word

    def parse(self) -> Expr:
        if self.peek.kind is Kind.END:
            raise FilterSyntaxError("the filter is empty", 1, self.text)
        expr = self.or_expr()
        rest = self.tokens[self.pos]
        if rest.kind is not Kind.END:
            raise self.fail(rest, "-and, -or or the end of the filter")
        return expr

    def or_expr(self) -> Expr:
        operands = [self.and_expr()]
        while self.is_dashword("-or"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Expr:
        operands = [self.not_expr()]
        while self.is_dashword("-and"):
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self) -> Expr:
        if self.is_dashword("-not"):
            self.nest(self.advance())
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.peek
        if tok.kind is Kind.LPAREN:
            self.nest(self.advance())
            expr = self.or_expr()
            if self.peek.kind is not Kind.RPAREN:
                raise self.fail(self.peek, f"')' to close the '(' at column {tok.column}")
            self.advance()
            self.depth -= 1
            return expr
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.advance()
        if tok.kind is not Kind.WORD:
            raise self.fail(tok, "an attribute name, '(' or -not")
        attribute = canonical_attribute(tok.text)
        if attribute is None:
            raise FilterSyntaxError(
                f"unknown attribute {tok.text!r} (segmentable attributes: Department, "
                "Company, MemberOf, ExtensionAttribute1..15, ... see docs/filters.md)",
                tok.column,
                self.text,
            )
        op_tok = self.advance()
        op = _OPERATORS.get(op_tok.text) if op_tok.kind is Kind.DASHWORD else None
        if op is None:
            raise self.fail(op_tok, f"an operator (-eq, -ne, -like, -notlike) after {tok.text}")
        value = self.advance()
        if value.kind is not Kind.STRING:
            raise self.fail(value, f"a quoted value after {op_tok.text}")
        return Comparison(attribute, op, value.text, tok.column)


def parse_filter(text: str) -> Expr:
    """Parse a ``UserGroupFilter``; raise :class:`FilterSyntaxError` naming the column.

    A filter longer than ``core.limits.MAX_FILTER`` characters is refused before it is
    read, whichever interface it came from.
    """
    if len(text) > MAX_FILTER:
        raise FilterSyntaxError(
            f"the filter is {len(text)} characters long, at most {MAX_FILTER}",
            MAX_FILTER + 1,
            text[:MAX_FILTER],
        )
    return _Parser(text).parse()
