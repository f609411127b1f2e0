"""Render a :class:`BarrierConfig` as a PowerShell script that rebuilds it.

Parsed with :func:`~infobarrier.formats.powershell.script.parse_script` and run on an empty
config, the script gives an equal config (ids aside); run by PowerShell against a tenant
with no information-barrier setup, it defines the same segments and policies. Every value
is single-quoted, so nothing in it is expanded: quotes (including the typographic ones
PowerShell also treats as quotes) are doubled, and ``$``, backticks, ``#``, ``;`` and
newlines are kept as they are.
"""

from __future__ import annotations

import re

from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, Policy, Segment
from infobarrier.formats.powershell.cmdlets import (
    NEW_POLICY,
    NEW_SEGMENT,
    SET_POLICY_CONFIG,
    START_APPLICATION,
)
from infobarrier.formats.powershell.tokenizer import SINGLE_QUOTES

_QUOTE = re.compile("[" + "".join(sorted(SINGLE_QUOTES)) + "]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: The comment after an export's header: wall-crossing exceptions (semantics §11) have no
#: Microsoft counterpart, so an export never contains them.
EXCEPTIONS_NOTE = (
    "# Wall-crossing exceptions are left out: Microsoft information barriers have none."
)


def quote(value: str) -> str:
    """``value`` as a PowerShell single-quoted string (every quote character doubled)."""
    return "'" + _QUOTE.sub(lambda m: m.group(0) * 2, value) + "'"


def quote_list(values: tuple[str, ...]) -> str:
    """Values as a PowerShell list: ``'a','b'``."""
    return ",".join(quote(v) for v in values)


def render_segment(segment: Segment) -> str:
    """``New-OrganizationSegment`` for one segment."""
    return f"{NEW_SEGMENT} -Name {quote(segment.name)} -UserGroupFilter {quote(segment.filter)}"


def render_policy(policy: Policy) -> str:
    """``New-InformationBarrierPolicy`` for one policy, with all its settings."""
    kind = "SegmentsAllowed" if policy.kind is ListKind.ALLOW else "SegmentsBlocked"
    parts = [
        NEW_POLICY,
        f"-Name {quote(policy.name)}",
        f"-AssignedSegment {quote(policy.segment)}",
        f"-{kind} {quote_list(policy.segments)}",
        f"-State {policy.state.value}",
    ]
    if policy.moderation_allowed:
        parts.append("-ModerationAllowed $true")
    if policy.comment:
        parts.append(f"-Comment {quote(policy.comment)}")
    return " ".join(parts)


def render_script(
    config: BarrierConfig, *, include_application: bool = True, header: str | None = None
) -> str:
    """A script that rebuilds ``config`` from an empty one.

    In order: the mode (when not SingleSegment), the people-search restriction (when
    Disabled), the segments, the policies, and ``Start-InformationBarrierPoliciesApplication``
    when ``include_application``. ``header`` (an export's) becomes comment lines at the
    top, followed by :data:`EXCEPTIONS_NOTE`.
    """
    lines: list[str] = []
    if header is not None:
        lines.extend(f"# {line}".rstrip() for line in _LINE_BREAK.split(header))
        lines.append(EXCEPTIONS_NOTE)
    if config.mode is not Mode.SINGLE_SEGMENT:
        lines.append(f"{SET_POLICY_CONFIG} -InformationBarrierMode {config.mode.value}")
    if not config.people_search_restriction:
        lines.append(f"{SET_POLICY_CONFIG} -InformationBarrierPeopleSearchRestriction Disabled")
    lines.extend(render_segment(segment) for segment in config.segments)
    lines.extend(render_policy(policy) for policy in config.policies)
    if include_application:
        lines.append(START_APPLICATION)
    return "".join(f"{line}\n" for line in lines)
