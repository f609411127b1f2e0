"""Split a PowerShell script into tokens, as PowerShell reads a command line.

Covered: ``#`` line comments and ``<# ... #>`` block comments (a block comment counts as a
space, even across lines), a backtick at the end of a line (trailing blanks allowed)
continues the line, ``;`` and newlines end statements, single-quoted strings (``''`` is a
quote), double-quoted strings (backtick escapes, ``""`` is a quote), here-strings
(``@' ... '@`` and ``@" ... "@``), bare words (arguments in PowerShell's argument mode, with
backtick escapes), parameters (``-Name``, ``-Confirm:``), variables, ``,``, ``|``, ``( )``,
``@( )``, ``$( )`` and ``{ }``. The typographic quotes and dashes that PowerShell accepts
(``‘ ’ ‚ ‛``, ``“ ” „``, ``– — ―``) are accepted too.

Variables are never expanded, since no PowerShell runs the script: ``$true``/``$false``
inside a double-quoted string or a bare word become ``True``/``False`` as in PowerShell;
any other variable or ``$( )`` there is recorded as the token's :attr:`Token.problem`,
which the parser raises only if the token belongs to a command it imports (skipped
``Get-*`` lines may use variables freely). Only a string, block comment or here-string
that never ends is an error at once, since nothing after it can be read.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from enum import Enum

from infobarrier.formats.powershell.errors import ScriptError

SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
DOUBLE_QUOTES = frozenset('"\u201c\u201d\u201e')
QUOTES = SINGLE_QUOTES | DOUBLE_QUOTES
DASHES = frozenset("-\u2013\u2014\u2015")
NEWLINES = frozenset("\r\n")
#: Characters that end a bare word or a parameter name (besides blanks and newlines).
WORD_DELIMITERS = frozenset(";,|(){}&")

_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}

Position = tuple[int, int]


class TokenKind(Enum):
    """Token kinds; the value is how an error message names the kind."""

    WORD = "an unquoted word"
    STRING = "a quoted string"
    PARAMETER = "a parameter"
    VARIABLE = "a variable"
    COMMA = "','"
    SEMICOLON = "';'"
    NEWLINE = "the end of the line"
    PIPE = "a pipeline '|'"
    LPAREN = "'('"
    RPAREN = "')'"
    ARRAY = "'@('"
    SUBEXPRESSION = "a subexpression '$('"
    LBRACE = "'{'"
    RBRACE = "'}'"
    OTHER = "an operator"
    EOF = "the end of the script"


@dataclass(frozen=True, slots=True)
class Problem:
    """An error found inside a token, raised only if the token is used (see module doc)."""

    message: str
    line: int
    column: int

    def error(self) -> ScriptError:
        """The :class:`ScriptError` for this problem."""
        return ScriptError(self.line, self.column, self.message)


@dataclass(frozen=True, slots=True)
class Token:
    """One token.

    ``value`` is the decoded text of a string or bare word, a parameter's name without
    the dash, or a variable's name without the ``$``; ``raw`` is the source text.
    ``spaced`` tells whether blanks, a comment, a continuation or the start of a line come
    right before the token. ``positions`` gives, for a string or bare word, the
    (line, column) of the source character behind each character of ``value``, plus one
    more entry for the end (the closing quote, or just past a bare word). ``colon`` marks
    a parameter written ``-Name:``.
    """

    kind: TokenKind
    value: str
    raw: str
    line: int
    column: int
    spaced: bool = True
    positions: tuple[Position, ...] = ()
    colon: bool = False
    problem: Problem | None = None

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind in (TokenKind.WORD, TokenKind.STRING):
            return f"{self.kind.value!s} {self.value!r}"
        if self.kind is TokenKind.PARAMETER:
            return f"the parameter -{self.value}"
        if self.kind is TokenKind.VARIABLE:
            return f"the variable {self.raw}"
        if self.kind is TokenKind.OTHER:
            return f"{self.raw!r}"
        return str(self.kind.value)


def is_blank(ch: str) -> bool:
    """Whitespace that separates tokens on one line (PowerShell's list, newlines aside)."""
    return len(ch) == 1 and (ch in " \t\f\v\x85\xa0" or unicodedata.category(ch) == "Zs")


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.line_starts = [0]
        i = 0
        while i < self.n:
            ch = text[i]
            if ch == "\r" and i + 1 < self.n and text[i + 1] == "\n":
                i += 1
            if ch in NEWLINES:
                self.line_starts.append(i + 1)
            i += 1
        self.tokens: list[Token] = []
        self.spaced = True

    # -- positions ---------------------------------------------------------------------
    def locate(self, offset: int) -> Position:
        """1-based (line, column) of a character offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def fail(self, offset: int, message: str) -> ScriptError:
        line, column = self.locate(offset)
        return ScriptError(line, column, message)

    def problem(self, offset: int, message: str) -> Problem:
        line, column = self.locate(offset)
        return Problem(message, line, column)

    # -- helpers -------------------------------------------------------------------------
    def char(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    def newline_length(self, i: int) -> int:
        """Length of the line break at ``i`` (0 if none)."""
        if self.char(i) == "\r" and self.char(i + 1) == "\n":
            return 2
        return 1 if self.char(i) in NEWLINES and i < self.n else 0

    def continuation_end(self, i: int) -> int | None:
        """If the backtick at ``i`` ends its line (blanks allowed), where the next line starts."""
        j = i + 1
        while j < self.n and is_blank(self.text[j]):
            j += 1
        if j >= self.n:
            return j
        length = self.newline_length(j)
        return j + length if length else None

    def emit(
        self,
        kind: TokenKind,
        start: int,
        end: int,
        value: str | None = None,
        *,
        positions: tuple[Position, ...] = (),
        colon: bool = False,
        problem: Problem | None = None,
    ) -> None:
        line, column = self.locate(start)
        raw = self.text[start:end]
        self.tokens.append(
            Token(
                kind,
                raw if value is None else value,
                raw,
                line,
                column,
                self.spaced,
                positions,
                colon,
                problem,
            )
        )
        self.spaced = kind is TokenKind.NEWLINE

    def variable_at(self, i: int) -> tuple[str, int] | None:
        """The variable reference starting with the ``$`` at ``i``: (name, end), or None.

        The name of ``$( ... )`` is ``"("`` and its end is just after the ``(``.
        """
        nxt = self.char(i + 1)
        if nxt == "(":
            return "(", i + 2
        if nxt == "{":
            close = self.text.find("}", i + 2)
            end = self.n if close < 0 else close + 1
            return self.text[i + 2 : end - 1], end
        if nxt in ("?", "^", "$"):
            return nxt, i + 2
        if nxt and (_is_name_char(nxt)):
            j = i + 1
            while j < self.n and (_is_name_char(self.text[j]) or self.text[j] == ":"):
                j += 1
            return self.text[i + 1 : j], j
        return None

    def escape(self, i: int) -> tuple[str, int]:
        """Decode the backtick escape at ``i``: (text, end)."""
        ch = self.char(i + 1)
        if ch == "u" and self.char(i + 2) == "{":
            close = self.text.find("}", i + 3)
            digits = self.text[i + 3 : close] if close > 0 else ""
            if 1 <= len(digits) <= 6 and all(d in "0123456789abcdefABCDEF" for d in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF:
                    return chr(code), close + 1
            raise self.fail(i, "invalid Unicode escape: write `u{XXXX} with 1-6 hex digits")
        if self.newline_length(i + 1) == 2:
            return "\r\n", i + 3
        return _ESCAPES.get(ch, ch), i + 2

    def expand_variable(
        self,
        i: int,
        out: list[str],
        positions: list[Position],
        problem: Problem | None,
        where: str,
    ) -> tuple[int, Problem | None]:
        """Handle a ``$`` at ``i`` inside an expandable text; return (next index, problem)."""
        found = self.variable_at(i)
        if found is None:
            out.append("$")
            positions.append(self.locate(i))
            return i + 1, problem
        name, end = found
        if name.casefold() in ("true", "false") and self.text[i + 1] != "{":
            text = "True" if name.casefold() == "true" else "False"
            out.append(text)
            positions.extend([self.locate(i)] * len(text))
            return end, problem
        if problem is None:
            if name == "(":
                message = (
                    f"the subexpression $( ) {where} is not run (infobarrier does not run "
                    "PowerShell): write the value itself"
                )
            else:
                message = (
                    f"the variable {self.text[i:end]} {where} is not expanded (infobarrier "
                    "does not run PowerShell): write the value itself, use single quotes, "
                    "or escape the $ with a backtick"
                )
            problem = self.problem(i, message)
        raw = self.text[i:end]
        out.append(raw)
        positions.extend(self.locate(k) for k in range(i, end))
        return end, problem

    # -- scanning ------------------------------------------------------------------------
    def run(self) -> list[Token]:
        i = 1 if self.text.startswith("\ufeff") else 0
        while i < self.n:
            i = self.step(i)
        self.emit(TokenKind.EOF, self.n, self.n, "")
        return self.tokens

    def step(self, i: int) -> int:
        ch = self.text[i]
        nxt = self.char(i + 1)
        if ch in NEWLINES:
            end = i + self.newline_length(i)
            self.emit(TokenKind.NEWLINE, i, end, "\n")
            return end
        if is_blank(ch):
            self.spaced = True
            return i + 1
        if ch == "#":
            j = i
            while j < self.n and self.text[j] not in NEWLINES:
                j += 1
            self.spaced = True
            return j
        if ch == "<" and nxt == "#":
            close = self.text.find("#>", i + 2)
            if close < 0:
                raise self.fail(i, "this block comment <# is never closed with #>")
            self.spaced = True
            return close + 2
        if ch == "`":
            resume = self.continuation_end(i)
            if resume is not None:
                self.spaced = True
                return resume
            return self.word(i)
        if ch in SINGLE_QUOTES:
            return self.single_quoted(i)
        if ch in DOUBLE_QUOTES:
            return self.double_quoted(i)
        if ch == "@":
            if nxt in QUOTES:
                return self.here_string(i)
            if nxt == "(":
                self.emit(TokenKind.ARRAY, i, i + 2)
                return i + 2
            if nxt == "{":
                self.emit(TokenKind.LBRACE, i, i + 2)
                return i + 2
            if nxt and _is_name_char(nxt):
                j = i + 1
                while j < self.n and _is_name_char(self.text[j]):
                    j += 1
                problem = self.problem(i, f"splatting ({self.text[i:j]}) is not supported")
                self.emit(TokenKind.VARIABLE, i, j, self.text[i + 1 : j], problem=problem)
                return j
            return self.word(i)
        if ch == "$":
            found = self.variable_at(i)
            if found is None:
                return self.word(i)
            name, end = found
            if name == "(":
                self.emit(TokenKind.SUBEXPRESSION, i, end)
            else:
                self.emit(TokenKind.VARIABLE, i, end, name)
            return end
        if ch in DASHES and nxt and (nxt.isalpha() or nxt in "_?"):
            return self.parameter(i)
        simple = {
            ",": TokenKind.COMMA,
            ";": TokenKind.SEMICOLON,
            "|": TokenKind.PIPE,
            "(": TokenKind.LPAREN,
            ")": TokenKind.RPAREN,
            "{": TokenKind.LBRACE,
            "}": TokenKind.RBRACE,
        }
        if ch in simple:
            self.emit(simple[ch], i, i + 1)
            return i + 1
        if ch in "&<>":
            j = i + 1
            while j < self.n and self.text[j] in "&<>|":
                j += 1
            self.emit(TokenKind.OTHER, i, j)
            return j
        return self.word(i)

    def word(self, i: int) -> int:
        """A bare word (a generic argument) starting at ``i``."""
        out: list[str] = []
        positions: list[Position] = []
        problem: Problem | None = None
        j = i
        while j < self.n:
            ch = self.text[j]
            if ch in NEWLINES or is_blank(ch) or ch in WORD_DELIMITERS:
                break
            if ch in QUOTES:
                if problem is None:
                    problem = self.problem(
                        j,
                        f"a quote right after the unquoted text {self.text[i:j]!r}: "
                        "quote the whole value, or put a space before the quote",
                    )
                break
            if ch == "`":
                if self.continuation_end(j) is not None:
                    break
                if is_blank(self.char(j + 1)):
                    problem = problem or self.problem(
                        j,
                        "a backtick continues a line only when it is the last character "
                        "on the line",
                    )
                text, j2 = self.escape(j)
                out.append(text)
                positions.extend([self.locate(j)] * len(text))
                j = j2
                continue
            if ch == "$":
                j, problem = self.expand_variable(j, out, positions, problem, "in a bare word")
                continue
            out.append(ch)
            positions.append(self.locate(j))
            j += 1
        positions.append(self.locate(j))
        self.emit(TokenKind.WORD, i, j, "".join(out), positions=tuple(positions), problem=problem)
        return j

    def parameter(self, i: int) -> int:
        """``-Name`` or ``-Name:`` starting at ``i``."""
        j = i + 1
        while j < self.n:
            ch = self.text[j]
            if ch in NEWLINES or is_blank(ch) or ch in WORD_DELIMITERS or ch in QUOTES:
                break
            if ch in ":`$":
                break
            j += 1
        name = self.text[i + 1 : j]
        colon = self.char(j) == ":"
        end = j + 1 if colon else j
        problem: Problem | None = None
        after = self.char(end)
        if not colon and (
            after in QUOTES or after == "$" or (after == "`" and self.continuation_end(end) is None)
        ):
            problem = self.problem(end, f"put a space between -{name} and its value")
        line, column = self.locate(i)
        self.tokens.append(
            Token(
                TokenKind.PARAMETER,
                name,
                self.text[i:end],
                line,
                column,
                self.spaced,
                colon=colon,
                problem=problem,
            )
        )
        self.spaced = False
        return end

    def single_quoted(self, i: int) -> int:
        out: list[str] = []
        positions: list[Position] = []
        j = i + 1
        while True:
            if j >= self.n:
                raise self.fail(i, "this quote ' is never closed")
            ch = self.text[j]
            if ch in SINGLE_QUOTES:
                if self.char(j + 1) in SINGLE_QUOTES and j + 1 < self.n:
                    out.append(self.text[j + 1])
                    positions.append(self.locate(j))
                    j += 2
                    continue
                break
            out.append(ch)
            positions.append(self.locate(j))
            j += 1
        positions.append(self.locate(j))
        self.emit(TokenKind.STRING, i, j + 1, "".join(out), positions=tuple(positions))
        return j + 1

    def double_quoted(self, i: int) -> int:
        out: list[str] = []
        positions: list[Position] = []
        problem: Problem | None = None
        j = i + 1
        while True:
            if j >= self.n:
                raise self.fail(i, 'this quote " is never closed')
            ch = self.text[j]
            if ch in DOUBLE_QUOTES:
                if self.char(j + 1) in DOUBLE_QUOTES and j + 1 < self.n:
                    out.append(self.text[j + 1])
                    positions.append(self.locate(j))
                    j += 2
                    continue
                break
            if ch == "`":
                if j + 1 >= self.n:
                    raise self.fail(i, 'this quote " is never closed')
                text, j2 = self.escape(j)
                out.append(text)
                positions.extend([self.locate(j)] * len(text))
                j = j2
                continue
            if ch == "$":
                j, problem = self.expand_variable(
                    j, out, positions, problem, "inside double quotes"
                )
                continue
            out.append(ch)
            positions.append(self.locate(j))
            j += 1
        positions.append(self.locate(j))
        self.emit(
            TokenKind.STRING,
            i,
            j + 1,
            "".join(out),
            positions=tuple(positions),
            problem=problem,
        )
        return j + 1

    def here_string(self, i: int) -> int:
        """``@'`` or ``@"`` at the end of a line, up to ``'@``/``"@`` at the start of a line."""
        quote = self.text[i + 1]
        quotes = SINGLE_QUOTES if quote in SINGLE_QUOTES else DOUBLE_QUOTES
        j = i + 2
        while j < self.n and is_blank(self.text[j]):
            j += 1
        length = self.newline_length(j)
        if not length:
            raise self.fail(i, "a here-string must start with @' or @\" at the end of a line")
        start = j + length
        k = start
        while True:
            if k >= self.n:
                raise self.fail(i, f"this here-string @{quote} is never closed")
            length = self.newline_length(k)
            if length and self.char(k + length) in quotes and self.char(k + length + 1) == "@":
                break
            if k == start and self.char(k) in quotes and self.char(k + 1) == "@":
                break  # an empty here-string
            k += 1
        end_of_content = k
        close = k if k == start and not self.newline_length(k) else k + self.newline_length(k)
        out: list[str] = []
        positions: list[Position] = []
        problem: Problem | None = None
        if quotes is SINGLE_QUOTES:
            out.append(self.text[start:end_of_content])
            positions.extend(self.locate(p) for p in range(start, end_of_content))
        else:
            p = start
            while p < end_of_content:
                ch = self.text[p]
                if ch == "`" and p + 1 < end_of_content:
                    text, p2 = self.escape(p)
                    out.append(text)
                    positions.extend([self.locate(p)] * len(text))
                    p = p2
                elif ch == "$":
                    p, problem = self.expand_variable(
                        p, out, positions, problem, "inside a here-string"
                    )
                else:
                    out.append(ch)
                    positions.append(self.locate(p))
                    p += 1
        positions.append(self.locate(close))
        self.emit(
            TokenKind.STRING,
            i,
            close + 2,
            "".join(out),
            positions=tuple(positions),
            problem=problem,
        )
        return close + 2


def tokenize(text: str) -> list[Token]:
    """Tokens of a script, ending with an ``EOF`` token; raises :class:`ScriptError`
    only for a string, block comment or here-string that is never closed."""
    return _Scanner(text).run()
