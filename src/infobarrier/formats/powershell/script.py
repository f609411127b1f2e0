"""Parse an information-barrier PowerShell script and run it against a :class:`BarrierConfig`.

:func:`parse_script` reads the script (see :mod:`.tokenizer` for the syntax) into
:class:`ScriptCommand` values, checking each command's parameters the way PowerShell binds
them; :func:`apply_command`, :func:`iter_script` and :func:`run_script` map the commands onto
the core's rules. Every error is a :class:`ScriptError` naming a line and a column. All of it
is pure: text in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from infobarrier.core.barriers import BarrierConfig, PolicyState, parse_mode, parse_state
from infobarrier.core.errors import FilterSyntaxError, InvalidInput, NotFound, RuleViolation
from infobarrier.formats.powershell.cmdlets import (
    CMDLETS,
    NEW_POLICY,
    NEW_SEGMENT,
    REMOVE_POLICY,
    REMOVE_SEGMENT,
    SET_POLICY,
    SET_POLICY_CONFIG,
    SET_SEGMENT,
    START_APPLICATION,
    CmdletSpec,
    ParamKind,
    ParamSpec,
    is_ignored,
)
from infobarrier.formats.powershell.errors import ScriptError
from infobarrier.formats.powershell.tokenizer import Position, Token, TokenKind, tokenize

__all__ = [
    "START_APPLICATION",
    "ParamValue",
    "ScriptCommand",
    "ScriptError",
    "apply_command",
    "iter_script",
    "parse_script",
    "run_script",
]

ParamValue = str | tuple[str, ...] | bool


@dataclass(frozen=True, slots=True)
class ScriptCommand:
    """One imported command.

    ``cmdlet`` is the canonical spelling (``New-InformationBarrierPolicy``) and ``params``
    maps canonical parameter names to a text, a tuple of texts (``SegmentsAllowed``,
    ``SegmentsBlocked``) or a bool (``ModerationAllowed`` and the switches ``Confirm`` and
    ``Force``); choices such as ``State`` are spelt canonically (``Active``). ``-WhatIf``
    is not a parameter but ``what_if``. ``line`` and ``column`` locate the cmdlet name.

    ``value_positions`` (not compared) locates each text parameter's value in the script:
    ``value_positions[name][0]`` is where the value starts (its opening quote), and
    ``value_positions[name][k]`` for ``k >= 1`` is the source of its ``k``-th character,
    the entry after the last character being the closing quote. Commands built by hand may
    leave it empty.
    """

    cmdlet: str
    params: Mapping[str, ParamValue]
    what_if: bool = False
    line: int = 1
    column: int = 1
    value_positions: Mapping[str, tuple[Position, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def applies(self) -> bool:
        """A ``Start-InformationBarrierPoliciesApplication`` that is not ``-WhatIf``."""
        return self.cmdlet == START_APPLICATION and not self.what_if


# -- parsing ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_VALUE_START = frozenset(
    {
        TokenKind.STRING,
        TokenKind.WORD,
        TokenKind.VARIABLE,
        TokenKind.ARRAY,
        TokenKind.LPAREN,
        TokenKind.SUBEXPRESSION,
    }
)
_END = frozenset({TokenKind.NEWLINE, TokenKind.SEMICOLON, TokenKind.EOF})


def _error(token: Token, message: str) -> ScriptError:
    return ScriptError(token.line, token.column, message)


@dataclass(frozen=True, slots=True)
class _Scalar:
    token: Token
    text: str
    boolean: bool | None = None

    @property
    def bare(self) -> bool:
        return self.token.kind is TokenKind.WORD


@dataclass(frozen=True, slots=True)
class _Value:
    token: Token
    items: tuple[_Scalar, ...]
    is_list: bool


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind is not TokenKind.EOF:
            self.pos += 1
        return token

    def skip_newlines(self) -> None:
        while self.peek().kind is TokenKind.NEWLINE:
            self.advance()

    # -- statements ----------------------------------------------------------------------
    def parse(self) -> list[ScriptCommand]:
        commands: list[ScriptCommand] = []
        while True:
            token = self.peek()
            if token.kind is TokenKind.EOF:
                return commands
            if token.kind in (TokenKind.NEWLINE, TokenKind.SEMICOLON):
                self.advance()
                continue
            command = self.statement()
            if command is not None:
                commands.append(command)

    def statement(self) -> ScriptCommand | None:
        token = self.peek()
        if token.kind is TokenKind.WORD and token.problem is None:
            if is_ignored(token.value):
                self.skip_statement()
                return None
            spec = CMDLETS.get(token.value.casefold())
            if spec is not None:
                return self.command(spec)
            supported = ", ".join(s.name for s in CMDLETS.values())
            raise _error(
                token,
                f"unknown or unsupported cmdlet {token.value!r} (supported: {supported}; "
                "Connect-*, Disconnect-*, Get-* and Import-Module lines are skipped)",
            )
        if token.kind is TokenKind.VARIABLE:
            raise _error(
                token,
                f"variables and assignments ({token.raw}) are not supported: infobarrier "
                "does not run PowerShell, it reads the information-barrier cmdlets",
            )
        if token.problem is not None:
            raise token.problem.error()
        raise _error(token, f"expected a cmdlet name, found {token.describe()}")

    def skip_statement(self) -> None:
        """Skip an ignored command with all its arguments, pipelines and script blocks."""
        self.advance()
        depth = 0
        while True:
            token = self.peek()
            kind = token.kind
            if kind is TokenKind.EOF or (kind in _END and depth == 0):
                return
            self.advance()
            if kind in (
                TokenKind.LPAREN,
                TokenKind.ARRAY,
                TokenKind.SUBEXPRESSION,
                TokenKind.LBRACE,
            ):
                depth += 1
            elif kind in (TokenKind.RPAREN, TokenKind.RBRACE):
                depth = max(0, depth - 1)
            elif kind in (TokenKind.PIPE, TokenKind.COMMA):
                self.skip_newlines()

    def command(self, spec: CmdletSpec) -> ScriptCommand:
        name_token = self.advance()
        binder = _Binder(spec, name_token)
        while True:
            token = self.peek()
            if token.kind in _END:
                break
            if not token.spaced:
                raise _error(token, f"expected a space before {token.describe()}")
            if token.problem is not None and token.kind is TokenKind.PARAMETER:
                raise token.problem.error()
            if token.kind is TokenKind.PARAMETER:
                self.advance()
                self.parameter(binder, token)
            elif token.kind in _VALUE_START:
                binder.positional(token, self.value())
            elif token.kind is TokenKind.PIPE:
                raise _error(token, "pipelines (|) are not supported: write one cmdlet per line")
            else:
                raise _error(token, f"unexpected {token.describe()}")
        return binder.finish()

    def parameter(self, binder: _Binder, token: Token) -> None:
        param = binder.resolve(token)
        if param.kind is ParamKind.SWITCH and not token.colon:
            binder.bind(param, token, None)
            return
        following = self.peek()
        if following.kind not in _VALUE_START:
            if param.kind is ParamKind.SWITCH:
                raise _error(following, f"-{param.name}: expects $true or $false after the colon")
            raise _error(token, f"-{param.name} needs a value")
        binder.bind(param, token, self.value())

    # -- values --------------------------------------------------------------------------
    def value(self) -> _Value:
        """A value in argument mode: a primary, or primaries separated by commas."""
        first = self.peek()
        items, is_list = self.primary(top=True)
        while self.peek().kind is TokenKind.COMMA:
            self.advance()
            self.skip_newlines()
            more, _ = self.primary(top=True)
            items += more
            is_list = True
        following = self.peek()
        if following.kind not in _END and not following.spaced:
            raise _error(following, f"expected a space before {following.describe()}")
        return _Value(first, tuple(items), is_list)

    def primary(self, *, top: bool) -> tuple[list[_Scalar], bool]:
        token = self.peek()
        kind = token.kind
        if token.problem is not None and kind in (TokenKind.STRING, TokenKind.WORD):
            raise token.problem.error()
        if kind is TokenKind.STRING:
            self.advance()
            return [_Scalar(token, token.value)], False
        if kind is TokenKind.WORD:
            if not top and not _NUMBER.fullmatch(token.value):
                raise _error(
                    token,
                    f"the unquoted word {token.value!r} inside parentheses would run as a "
                    "command in PowerShell: put it in quotes",
                )
            self.advance()
            return [_Scalar(token, token.value)], False
        if kind is TokenKind.VARIABLE:
            name = token.value.casefold()
            if token.problem is None and name in ("true", "false"):
                self.advance()
                return [_Scalar(token, "", name == "true")], False
            if token.problem is not None:
                raise token.problem.error()
            raise _error(
                token,
                f"the variable {token.raw} is not supported (infobarrier does not run "
                "PowerShell): write the value itself",
            )
        if kind in (TokenKind.ARRAY, TokenKind.LPAREN):
            self.advance()
            return self.group(token)
        if kind is TokenKind.SUBEXPRESSION:
            raise _error(token, "subexpressions $( ) are not supported: write the value itself")
        raise _error(token, f"expected a value, found {token.describe()}")

    def group(self, opening: Token) -> tuple[list[_Scalar], bool]:
        """The elements of ``@( ... )`` or ``( ... )``, separated by commas or newlines."""
        items: list[_Scalar] = []
        elements = 0
        is_list = opening.kind is TokenKind.ARRAY
        while True:
            token = self.peek()
            if token.kind in (TokenKind.NEWLINE, TokenKind.SEMICOLON):
                self.advance()
                continue
            if token.kind is TokenKind.RPAREN:
                self.advance()
                break
            if token.kind is TokenKind.EOF:
                raise _error(opening, f"this {opening.raw} is never closed with ')'")
            sub, sub_list = self.primary(top=False)
            items += sub
            is_list = is_list or sub_list
            elements += 1
            while self.peek().kind is TokenKind.COMMA:
                self.advance()
                self.skip_newlines()
                sub, _ = self.primary(top=False)
                items += sub
                is_list = True
            following = self.peek()
            if following.kind not in (
                TokenKind.NEWLINE,
                TokenKind.SEMICOLON,
                TokenKind.RPAREN,
                TokenKind.EOF,
            ):
                raise _error(following, f"expected ',' or ')', found {following.describe()}")
        return items, is_list or elements > 1


class _Binder:
    """Binds parameters of one command as PowerShell does, with PowerShell's checks."""

    def __init__(self, spec: CmdletSpec, name_token: Token) -> None:
        self.spec = spec
        self.name_token = name_token
        self.params: dict[str, ParamValue] = {}
        self.where: dict[str, Token] = {}
        self.positions: dict[str, tuple[Position, ...]] = {}
        self.what_if = False

    def resolve(self, token: Token) -> ParamSpec:
        key = token.value.casefold()
        exact = [
            p
            for p in self.spec.params
            if p.name.casefold() == key or key in (a.casefold() for a in p.aliases)
        ]
        matches = exact or [p for p in self.spec.params if p.name.casefold().startswith(key)]
        if not matches:
            raise _error(
                token,
                f"{self.spec.name} has no parameter -{token.value} (its parameters: "
                f"{', '.join(self.spec.supported_names())})",
            )
        if len(matches) > 1:
            names = ", ".join(f"-{p.name}" for p in matches)
            raise _error(token, f"-{token.value} is ambiguous: it could be {names}")
        param = matches[0]
        if not param.supported:
            raise _error(
                token,
                f"-{param.name} of {self.spec.name} is not supported by infobarrier (supported: "
                f"{', '.join(self.spec.supported_names())})",
            )
        return param

    def positional(self, token: Token, value: _Value) -> None:
        name = self.spec.positional
        if name is None or name in self.where:
            raise _error(
                token,
                f"unexpected argument {token.describe()}: {self.spec.name} takes no further "
                "positional argument (name the parameter, e.g. -Name)",
            )
        param = self.spec.param(name)
        if not param.supported:
            raise _error(
                token,
                f"unexpected argument {token.describe()}: -{name} of {self.spec.name} is not "
                "supported by infobarrier",
            )
        self.bind(param, token, value)

    def bind(self, param: ParamSpec, token: Token, value: _Value | None) -> None:
        if param.name in self.where:
            first = self.where[param.name]
            raise _error(
                token,
                f"-{param.name} is given twice (first at line {first.line}, column {first.column})",
            )
        for a, b in self.spec.exclusive:
            other = b if param.name == a else a if param.name == b else None
            if other is not None and other in self.where:
                raise _error(token, f"-{param.name} cannot be used together with -{other}")
        self.where[param.name] = token
        converted = self.convert(param, value)
        if param.name == "WhatIf":
            assert isinstance(converted, bool)
            self.what_if = converted
            return
        self.params[param.name] = converted
        if value is not None and param.kind is ParamKind.TEXT:
            scalar = value.items[0]
            start = (value.token.line, value.token.column)
            self.positions[param.name] = (start, *scalar.token.positions)

    def convert(self, param: ParamSpec, value: _Value | None) -> ParamValue:
        if value is None:
            return True  # a switch without a value
        name = f"-{param.name}"
        if param.kind is ParamKind.LIST:
            for item in value.items:
                if item.boolean is not None:
                    raise _error(item.token, f"{name} takes segment names, not {item.token.raw}")
            return tuple(item.text for item in value.items)
        if value.is_list:
            raise _error(value.token, f"{name} takes a single value, not a list")
        scalar = value.items[0]
        token = scalar.token
        if param.kind in (ParamKind.BOOL, ParamKind.SWITCH):
            if scalar.boolean is not None:
                return scalar.boolean
            if param.kind is ParamKind.BOOL and scalar.bare and scalar.text in ("0", "1"):
                return scalar.text == "1"
            raise _error(token, f"{name} takes $true or $false, not {token.describe()}")
        if scalar.boolean is not None:
            raise _error(token, f"{name} takes a text value, not {token.raw}")
        if param.kind is ParamKind.CHOICE:
            for choice in param.choices:
                if choice.casefold() == scalar.text.strip().casefold():
                    return choice
            *others, last = param.choices
            raise _error(
                token, f"{name} must be {', '.join(others)} or {last}, not {scalar.text!r}"
            )
        return scalar.text

    def finish(self) -> ScriptCommand:
        spec, token = self.spec, self.name_token
        for name in spec.required:
            if name not in self.where:
                raise _error(token, f"{spec.name} is missing -{name}")
        for group in spec.one_of:
            if not any(name in self.where for name in group):
                options = " or ".join(f"-{name}" for name in group)
                raise _error(token, f"{spec.name} is missing {options}")
        return ScriptCommand(
            spec.name, dict(self.params), self.what_if, token.line, token.column, self.positions
        )


def parse_script(text: str) -> list[ScriptCommand]:
    """The information-barrier commands of a script, in order; skipped lines leave nothing.

    Raises :class:`ScriptError` (line, column) for anything it cannot import.
    """
    return _Parser(text).parse()


# -- running ---------------------------------------------------------------------------------


def _missing(command: ScriptCommand, name: str, what: str) -> ScriptError:
    return ScriptError(command.line, command.column, f"{command.cmdlet}: -{name} must be {what}")


def _text(command: ScriptCommand, name: str) -> str:
    value = command.params.get(name)
    if not isinstance(value, str):
        raise _missing(command, name, "one text value")
    return value


def _optional_text(command: ScriptCommand, name: str) -> str | None:
    return _text(command, name) if name in command.params else None


def _optional_list(command: ScriptCommand, name: str) -> tuple[str, ...] | None:
    if name not in command.params:
        return None
    value = command.params[name]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        raise _missing(command, name, "a list of segment names")
    return value


def _optional_bool(command: ScriptCommand, name: str) -> bool | None:
    if name not in command.params:
        return None
    value = command.params[name]
    if not isinstance(value, bool):
        raise _missing(command, name, "$true or $false")
    return value


def _filter_location(command: ScriptCommand, position: int) -> tuple[int, int]:
    """Where character ``position`` (1-based) of the UserGroupFilter value is in the script."""
    positions = command.value_positions.get("UserGroupFilter", ())
    if 1 <= position < len(positions):
        return positions[position]
    if positions:
        return positions[0]
    return command.line, command.column


def _apply(config: BarrierConfig, command: ScriptCommand) -> BarrierConfig:
    cmdlet = command.cmdlet
    if cmdlet == NEW_SEGMENT:
        return config.new_segment(_text(command, "Name"), _text(command, "UserGroupFilter"))
    if cmdlet == SET_SEGMENT:
        identity = _text(command, "Identity")
        filter_text = _optional_text(command, "UserGroupFilter")
        if filter_text is None:
            config.segment(identity)
            return config
        return config.set_segment_filter(identity, filter_text)
    if cmdlet == REMOVE_SEGMENT:
        return config.remove_segment(_text(command, "Identity"))
    if cmdlet in (NEW_POLICY, SET_POLICY):
        state_text = _optional_text(command, "State")
        state = None if state_text is None else parse_state(state_text)
        allowed = _optional_list(command, "SegmentsAllowed")
        blocked = _optional_list(command, "SegmentsBlocked")
        moderation = _optional_bool(command, "ModerationAllowed")
        comment = _optional_text(command, "Comment")
        if cmdlet == SET_POLICY:
            return config.set_policy(
                _text(command, "Identity"),
                allowed=allowed,
                blocked=blocked,
                state=state,
                moderation_allowed=moderation,
                comment=comment,
            )
        return config.new_policy(
            _text(command, "Name"),
            _text(command, "AssignedSegment"),
            allowed=allowed,
            blocked=blocked,
            state=PolicyState.INACTIVE if state is None else state,
            moderation_allowed=bool(moderation),
            comment=comment or "",
        )
    if cmdlet == REMOVE_POLICY:
        return config.remove_policy(_text(command, "Identity"))
    if cmdlet == SET_POLICY_CONFIG:
        mode_text = _optional_text(command, "InformationBarrierMode")
        search_text = _optional_text(command, "InformationBarrierPeopleSearchRestriction")
        search = None if search_text is None else _search_restriction(command, search_text)
        # Enabling the restriction first lets one command switch to Legacy; disabling it
        # last lets one command leave Legacy and disable it.
        if search is True:
            config = config.set_people_search_restriction(True)
        if mode_text is not None:
            config = config.set_mode(parse_mode(mode_text))
        if search is False:
            config = config.set_people_search_restriction(False)
        return config
    if cmdlet == START_APPLICATION:
        return config
    raise ScriptError(command.line, command.column, f"unsupported cmdlet {cmdlet!r}")


def _search_restriction(command: ScriptCommand, text: str) -> bool:
    key = text.strip().casefold()
    if key not in ("enabled", "disabled"):
        raise _missing(command, "InformationBarrierPeopleSearchRestriction", "Enabled or Disabled")
    return key == "enabled"


def apply_command(config: BarrierConfig, command: ScriptCommand) -> BarrierConfig:
    """The config after one command (``Start-...`` and ``Set-...`` without changes: unchanged).

    ``what_if`` is not looked at here: :func:`iter_script` discards the result of a
    ``-WhatIf`` command. A :class:`RuleViolation`, :class:`NotFound` or
    :class:`FilterSyntaxError` of the core becomes a :class:`ScriptError` at the command's
    line and column, or for a filter error at the offending character of the filter in the
    script, keeping the core's message.
    """
    try:
        return _apply(config, command)
    except ScriptError:
        raise
    except FilterSyntaxError as exc:
        line, column = _filter_location(command, exc.position)
        raise ScriptError(
            line,
            column,
            f"{command.cmdlet} -UserGroupFilter: {exc.message}",
            cause_code=exc.code,
        ) from exc
    except (InvalidInput, NotFound) as exc:
        rule = exc.rule if isinstance(exc, RuleViolation) else None
        raise ScriptError(
            command.line,
            command.column,
            f"{command.cmdlet}: {exc.message}",
            cause_code=exc.code,
            rule=rule,
        ) from exc


def iter_script(
    config: BarrierConfig, commands: Iterable[ScriptCommand]
) -> Iterator[tuple[ScriptCommand, BarrierConfig]]:
    """Each command with the config after it; a ``-WhatIf`` command is checked, then undone.

    The caller applies (``Start-InformationBarrierPoliciesApplication``) where
    ``command.applies`` is true, with the config yielded with that command.
    """
    for command in commands:
        result = apply_command(config, command)
        if not command.what_if:
            config = result
        yield command, config


def run_script(
    config: BarrierConfig, commands: Sequence[ScriptCommand]
) -> tuple[BarrierConfig, list[int]]:
    """The final config, and the indices of the commands that apply (see :func:`iter_script`)."""
    starts: list[int] = []
    for index, (command, after) in enumerate(iter_script(config, commands)):
        config = after
        if command.applies:
            starts.append(index)
    return config, starts
