"""The segmentable attributes and their names (semantics §2).

Filters, CSV headers and PowerShell scripts may use the Entra ID name, the Exchange
name or the Graph name of an attribute; all resolve here to one canonical name.
"""

from __future__ import annotations

from typing import Final

#: Canonical names of the single-valued attributes stored on a user.
SINGLE_VALUED: Final[tuple[str, ...]] = (
    "Co",
    "Company",
    "Department",
    *(f"ExtensionAttribute{i}" for i in range(1, 16)),
    *(f"MSExchExtensionCustomAttribute{i}" for i in range(1, 6)),
    "MailNickname",
    "PhysicalDeliveryOfficeName",
    "PostalCode",
    "StreetAddress",
    "TargetAddress",
    "UsageLocation",
    "UserPrincipalName",
    "Mail",
    "Description",
)

#: Canonical names of the multi-valued attributes.
MULTI_VALUED: Final[tuple[str, ...]] = ("ProxyAddresses", "MemberOf")

#: Every attribute a filter may name, canonical spelling.
CANONICAL: Final[tuple[str, ...]] = SINGLE_VALUED + MULTI_VALUED

#: Attributes a user record stores in its free-form attribute map (the rest are
#: first-class fields: the UPN, the mail, and group membership for ``MemberOf``).
STORED_ATTRIBUTES: Final[tuple[str, ...]] = tuple(
    a for a in SINGLE_VALUED if a not in ("UserPrincipalName", "Mail")
)

_SYNONYMS: dict[str, str] = {
    **{f"customattribute{i}": f"ExtensionAttribute{i}" for i in range(1, 16)},
    **{f"extensioncustomattribute{i}": f"MSExchExtensionCustomAttribute{i}" for i in range(1, 6)},
    "alias": "MailNickname",
    "office": "PhysicalDeliveryOfficeName",
    "emailaddresses": "ProxyAddresses",
    "externalemailaddress": "TargetAddress",
    "windowsemailaddress": "Mail",
    "memberofgroup": "MemberOf",
    # Entra ID / Graph names.
    "companyname": "Company",
    "country": "Co",
    "officelocation": "PhysicalDeliveryOfficeName",
    **{
        f"onpremisesextensionattributes.extensionattribute{i}": f"ExtensionAttribute{i}"
        for i in range(1, 16)
    },
}

_BY_FOLDED: dict[str, str] = {name.casefold(): name for name in CANONICAL} | _SYNONYMS


def canonical_attribute(name: str) -> str | None:
    """Return the canonical name of an attribute, or ``None`` if it is not segmentable.

    Matching is case-insensitive, and Entra, Exchange and Graph names are synonyms.
    """
    return _BY_FOLDED.get(name.strip().casefold())


def is_multi_valued(canonical: str) -> bool:
    """True for ``ProxyAddresses`` and ``MemberOf``: ``-eq`` holds if any value matches."""
    return canonical in MULTI_VALUED


def known_attribute_names() -> list[str]:
    """The canonical attribute names, sorted (for error messages and completion)."""
    return sorted(CANONICAL)
