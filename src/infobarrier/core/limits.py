"""One validation and one set of limits for every text that enters the engine.

Every interface (the HTTP API, SCIM, CSV import, PowerShell import, the CLI) reaches
the core through the functions here, so the same bad input is refused the same way
whichever door it came through, before anything changes. The table :data:`LIMITS` is
documented in docs/security.md ("Limits").

Identifiers (UPNs, segment, policy and group names) are compared by
:func:`identity_key`: Unicode NFKC normalisation and case folding, so that the NFC and
NFD spellings of a name, or its full-width look-alike, are one name. They are stored as
given. Control and invisible characters (NUL, line breaks, zero-width and bidirectional
controls: Unicode categories Cc, Cf, Cs, Co, Cn, Zl and Zp) are refused in identifiers;
free text (attribute values, comments) only refuses NUL, which no database stores.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from infobarrier.core.codes import ErrorCode
from infobarrier.core.errors import InvalidInput

#: Longest UserPrincipalName (and mail address): RFC 5321's 64 + 1 + 255.
MAX_UPN: Final = 320
#: Longest segment or policy name.
MAX_NAME: Final = 64
#: Longest group display name, user display name, vendor, team name or subject.
MAX_DISPLAY_NAME: Final = 256
#: Longest attribute value (Department, ExtensionAttribute1 ...) or proxy address.
MAX_ATTRIBUTE_VALUE: Final = 1024
#: Most proxy addresses one user may have.
MAX_PROXY_ADDRESSES: Final = 256
#: Most segments one list (``SegmentsAllowed``, ``SegmentsBlocked``) may name.
MAX_SEGMENTS: Final = 5000
#: Most members one request may give a group.
MAX_GROUP_MEMBERS: Final = 100_000
#: Longest ``UserGroupFilter`` text.
MAX_FILTER: Final = 10_000
#: Longest policy comment.
MAX_COMMENT: Final = 1024
#: Most (sender, recipient) and (recipient, recipient) pairs one request may require.
MAX_PAIRS_PER_REQUEST: Final = 1_000_000
#: Deepest nesting of JSON objects and arrays a SCIM body may have.
MAX_JSON_DEPTH: Final = 32

#: The limits table (docs/security.md): what is limited, and to what.
LIMITS: Final[dict[str, int]] = {
    "UserPrincipalName (characters)": MAX_UPN,
    "Mail (characters)": MAX_UPN,
    "segment or policy name (characters)": MAX_NAME,
    "group, user display name (characters)": MAX_DISPLAY_NAME,
    "attribute value, proxy address (characters)": MAX_ATTRIBUTE_VALUE,
    "proxy addresses per user": MAX_PROXY_ADDRESSES,
    "segments named by one policy list": MAX_SEGMENTS,
    "members given to a group in one request": MAX_GROUP_MEMBERS,
    "filter text (characters)": MAX_FILTER,
    "policy comment (characters)": MAX_COMMENT,
    "pairs one decisions request requires (default of INFOBARRIER_MAX_PAIRS)": (
        MAX_PAIRS_PER_REQUEST
    ),
    "SCIM JSON nesting depth": MAX_JSON_DEPTH,
}

#: Unicode categories refused in identifiers: controls, format (zero-width, bidi),
#: surrogates, private use, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def identity_key(text: str) -> str:
    """The key two identifiers are compared by: NFKC, then case folding, then NFKC again.

    (Case folding can undo NFKC's normal form, hence the second pass.)
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def invisible_character(text: str) -> tuple[int, str] | None:
    """The first control or invisible character of ``text``: (1-based position, name)."""
    if text.isascii() and text.isprintable():
        return None
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            name = unicodedata.name(ch, "") or f"U+{ord(ch):04X}"
            return i + 1, name
    return None


def _refuse_invisible(what: str, text: str) -> None:
    found = invisible_character(text)
    if found is not None:
        position, name = found
        raise InvalidInput(
            f"invalid {what}: character {position} is a control or invisible character "
            f"({name}), which identifiers may not contain",
            code=ErrorCode.INVALID_IDENTIFIER,
        )


def _refuse_too_long(what: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise InvalidInput(
            f"{what} is too long: {len(text)} characters, at most {limit}",
            code=ErrorCode.TOO_LONG,
        )


def _has_space(text: str) -> bool:
    """Whether ``text`` holds a whitespace character. Printable ASCII text (nearly every
    address) can only hold the space itself; other text is tested character by character."""
    if text.isascii() and text.isprintable():
        return " " in text
    return any(ch.isspace() for ch in text)


def check_upn(upn: str) -> str:
    """A UserPrincipalName, stripped: ``local@domain``, both parts present, at most
    :data:`MAX_UPN` characters, no spaces, no control or invisible characters."""
    upn = upn.strip()
    shown = upn if len(upn) <= 80 else upn[:77] + "..."
    _refuse_too_long("UserPrincipalName", upn, MAX_UPN)
    local, at, domain = upn.rpartition("@")
    if not at or not local or not domain or _has_space(upn):
        raise InvalidInput(
            f"invalid UserPrincipalName {shown!r}: expected name@domain", code=ErrorCode.INVALID_UPN
        )
    _refuse_invisible(f"UserPrincipalName {shown!r}", upn)
    return upn


def check_mail(mail: str, what: str = "Mail") -> str:
    """A mail address (empty for none), stripped: like a UPN when present."""
    mail = mail.strip()
    if not mail:
        return ""
    _refuse_too_long(what, mail, MAX_UPN)
    local, at, domain = mail.rpartition("@")
    if not at or not local or not domain or _has_space(mail):
        raise InvalidInput(
            f"invalid {what} {mail!r}: expected name@domain", code=ErrorCode.INVALID_UPN
        )
    _refuse_invisible(f"{what} {mail!r}", mail)
    return mail


def check_name(kind: str, name: str, limit: int = MAX_NAME) -> str:
    """A name (segment, policy, group, team), stripped: 1 to ``limit`` characters, no
    control or invisible characters."""
    name = name.strip()
    if not name:
        raise InvalidInput(f"a {kind} name must not be empty", code=ErrorCode.INVALID_IDENTIFIER)
    _refuse_too_long(f"a {kind} name", name, limit)
    _refuse_invisible(f"{kind} name {name[:80]!r}", name)
    return name


def check_text(what: str, text: str, limit: int) -> str:
    """Free text (an attribute value, a comment): at most ``limit`` characters, no NUL."""
    _refuse_too_long(what, text, limit)
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character", code=ErrorCode.INVALID_IDENTIFIER)
    return text


def check_attribute_value(attribute: str, value: str) -> str:
    """An attribute value: at most :data:`MAX_ATTRIBUTE_VALUE` characters, no NUL."""
    return check_text(f"the value of {attribute}", value, MAX_ATTRIBUTE_VALUE)


def check_filter_text(text: str) -> str:
    """A ``UserGroupFilter``'s text: at most :data:`MAX_FILTER` characters."""
    _refuse_too_long("the filter", text, MAX_FILTER)
    return text


# -- column-wise fast tests -----------------------------------------------------------------
# A bulk import (the users CSV) checks a whole column at once with these. Each is a sound
# shortcut of the per-value check above: ``True`` means every value passes that check
# unchanged; ``False`` only means "check the values one by one", so the per-value checks
# stay the one definition of what is refused and of the error message.

#: Printable ASCII without spaces, ``local@domain``, one value per line.
_PLAIN_ADDRESSES: Final = re.compile(r"(?:[!-~]+@[!-?A-~]+\n)*")


def plain_address(value: str) -> bool:
    """Whether ``value`` certainly passes :func:`check_upn` (and :func:`check_mail`)
    unchanged: printable ASCII, no spaces, ``local@domain``, at most :data:`MAX_UPN`."""
    return len(value) <= MAX_UPN and _PLAIN_ADDRESSES.fullmatch(value + "\n") is not None


def plain_addresses(values: Sequence[str]) -> bool:
    """:func:`plain_address` of every value, in a few C-level passes over the column."""
    if not values:
        return True
    if max(map(len, values)) > MAX_UPN:
        return False
    return _PLAIN_ADDRESSES.fullmatch("\n".join(values) + "\n") is not None


def texts_fit(values: Sequence[str], limit: int) -> bool:
    """Whether every value passes :func:`check_text` with ``limit`` (exactly: at most
    ``limit`` characters and no NUL)."""
    if not values:
        return True
    return max(map(len, values)) <= limit and "\x00" not in "".join(values)
