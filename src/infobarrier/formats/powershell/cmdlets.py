"""The cmdlets a script may use, with their parameters (Microsoft's cmdlet reference).

Parameter names are matched as PowerShell matches them: case-insensitively, by an alias,
or by a prefix that names only one parameter. Parameters that exist in PowerShell but that
infobarrier does not support (``-SegmentAllowedFilter``, the common parameters such as
``-Verbose``) are listed with ``supported=False`` so that the error says so instead of
calling them unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class ParamKind(Enum):
    """What a parameter takes."""

    TEXT = "one text value"
    LIST = "one or more text values"
    BOOL = "$true or $false"
    CHOICE = "one of fixed values"
    SWITCH = "a switch"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a cmdlet."""

    name: str
    kind: ParamKind
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    supported: bool = True


@dataclass(frozen=True, slots=True)
class CmdletSpec:
    """One cmdlet: its parameters, its first positional parameter, its rules."""

    name: str
    params: tuple[ParamSpec, ...]
    positional: str | None = None
    required: tuple[str, ...] = ()
    #: Parameters that cannot be given together (PowerShell's parameter sets).
    exclusive: tuple[tuple[str, str], ...] = ()
    #: Groups of which at least one must be given, with how to say so.
    one_of: tuple[tuple[str, ...], ...] = ()

    def param(self, name: str) -> ParamSpec:
        """A parameter by canonical name."""
        return next(p for p in self.params if p.name == name)

    def supported_names(self) -> list[str]:
        """The supported parameters, for error messages."""
        return [f"-{p.name}" for p in self.params if p.supported]


NEW_SEGMENT = "New-OrganizationSegment"
SET_SEGMENT = "Set-OrganizationSegment"
REMOVE_SEGMENT = "Remove-OrganizationSegment"
NEW_POLICY = "New-InformationBarrierPolicy"
SET_POLICY = "Set-InformationBarrierPolicy"
REMOVE_POLICY = "Remove-InformationBarrierPolicy"
START_APPLICATION = "Start-InformationBarrierPoliciesApplication"
SET_POLICY_CONFIG = "Set-PolicyConfig"

_SWITCHES = (
    ParamSpec("Confirm", ParamKind.SWITCH, aliases=("cf",)),
    ParamSpec("WhatIf", ParamKind.SWITCH, aliases=("wi",)),
    ParamSpec("Force", ParamKind.SWITCH),
)
_COMMON = tuple(
    ParamSpec(name, ParamKind.TEXT, aliases=aliases, supported=False)
    for name, aliases in (
        ("Debug", ("db",)),
        ("ErrorAction", ("ea",)),
        ("ErrorVariable", ("ev",)),
        ("InformationAction", ("infa",)),
        ("InformationVariable", ("iv",)),
        ("OutBuffer", ("ob",)),
        ("OutVariable", ("ov",)),
        ("PipelineVariable", ("pv",)),
        ("ProgressAction", ("proga",)),
        ("Verbose", ("vb",)),
        ("WarningAction", ("wa",)),
        ("WarningVariable", ("wv",)),
    )
)
_STATE = ParamSpec("State", ParamKind.CHOICE, ("Active", "Inactive"))
_POLICY_COMMON = (
    ParamSpec("SegmentsAllowed", ParamKind.LIST),
    ParamSpec("SegmentsBlocked", ParamKind.LIST),
    ParamSpec("SegmentAllowedFilter", ParamKind.TEXT, supported=False),
    _STATE,
    ParamSpec("ModerationAllowed", ParamKind.BOOL),
    ParamSpec("Comment", ParamKind.TEXT),
)
_LISTS = ("SegmentsAllowed", "SegmentsBlocked")


def _spec(
    name: str,
    params: tuple[ParamSpec, ...],
    positional: str | None = None,
    required: tuple[str, ...] = (),
    exclusive: tuple[tuple[str, str], ...] = (),
    one_of: tuple[tuple[str, ...], ...] = (),
) -> CmdletSpec:
    return CmdletSpec(name, params + _SWITCHES + _COMMON, positional, required, exclusive, one_of)


CMDLETS: Mapping[str, CmdletSpec] = {
    spec.name.casefold(): spec
    for spec in (
        _spec(
            NEW_SEGMENT,
            (ParamSpec("Name", ParamKind.TEXT), ParamSpec("UserGroupFilter", ParamKind.TEXT)),
            positional="Name",
            required=("Name", "UserGroupFilter"),
        ),
        _spec(
            SET_SEGMENT,
            (ParamSpec("Identity", ParamKind.TEXT), ParamSpec("UserGroupFilter", ParamKind.TEXT)),
            positional="Identity",
            required=("Identity",),
        ),
        _spec(
            REMOVE_SEGMENT,
            (ParamSpec("Identity", ParamKind.TEXT),),
            positional="Identity",
            required=("Identity",),
        ),
        _spec(
            NEW_POLICY,
            (
                ParamSpec("Name", ParamKind.TEXT),
                ParamSpec("AssignedSegment", ParamKind.TEXT),
                *_POLICY_COMMON,
            ),
            positional="Name",
            required=("Name", "AssignedSegment"),
            exclusive=(_LISTS,),
            one_of=(_LISTS,),
        ),
        _spec(
            SET_POLICY,
            (ParamSpec("Identity", ParamKind.TEXT), *_POLICY_COMMON),
            positional="Identity",
            required=("Identity",),
            exclusive=(_LISTS,),
        ),
        _spec(
            REMOVE_POLICY,
            (ParamSpec("Identity", ParamKind.TEXT),),
            positional="Identity",
            required=("Identity",),
        ),
        _spec(
            START_APPLICATION,
            (ParamSpec("Identity", ParamKind.TEXT, supported=False),),
            positional="Identity",
        ),
        _spec(
            SET_POLICY_CONFIG,
            (
                ParamSpec("Identity", ParamKind.TEXT, supported=False),
                ParamSpec(
                    "InformationBarrierMode",
                    ParamKind.CHOICE,
                    ("Legacy", "SingleSegment", "MultiSegment"),
                ),
                ParamSpec(
                    "InformationBarrierPeopleSearchRestriction",
                    ParamKind.CHOICE,
                    ("Enabled", "Disabled"),
                ),
            ),
            positional="Identity",
        ),
    )
}

#: Lines starting with one of these (case-insensitive) are skipped with their arguments.
IGNORED_PREFIXES = ("connect-", "disconnect-", "get-")
IGNORED_NAMES = ("import-module",)


def is_ignored(cmdlet: str) -> bool:
    """``Connect-*``, ``Disconnect-*``, ``Get-*`` and ``Import-Module`` are skipped."""
    key = cmdlet.casefold()
    return key.startswith(IGNORED_PREFIXES) or key in IGNORED_NAMES
