"""The user principal name of a SCIM user, for any identity provider (docs/scim.md, "userName").

RFC 7643 asks only that ``userName`` be unique. Entra ID and Okta send a user principal
name (``name@domain``); other providers send a login name, an employee number or a UUID.
The directory needs a UPN (semantics §2), so it is derived, in this order:

1. ``userName`` itself, when it is an address (``name@domain``): Entra ID and Okta;
2. the UPN the user already has, when ``userName`` did not change (a later edit of the
   e-mails never renames anyone);
3. the primary ``work`` e-mail (else the first ``work`` e-mail);
4. the tenant's template with ``{userName}`` and ``{tenant}`` filled in (by default
   ``{userName}@{tenant}.invalid``; ``infobarrier scim upn-template`` changes it).

A result that is not an address is bad input that says which rule gave it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: a CLI start need not import scim2_models
    from scim2_models import User

from infobarrier.core.directory import fold
from infobarrier.core.errors import InvalidInput

#: A tenant's template when none was set: ``.invalid`` is reserved (RFC 2606), so such a
#: UPN is never mistaken for a mailbox.
DEFAULT_TEMPLATE = "{userName}@{tenant}.invalid"

PLACEHOLDERS = ("{userName}", "{tenant}")

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def is_address(text: str) -> bool:
    """``name@domain``: one ``@``, something on each side, no white space."""
    return _ADDRESS.fullmatch(text) is not None


def check_template(template: str) -> str:
    """A template as given, or a clear error: it uses ``{userName}`` and gives an address."""
    template = template.strip()
    unknown = [p for p in _PLACEHOLDER.findall(template) if p not in PLACEHOLDERS]
    if unknown:
        raise InvalidInput(
            f"UPN template {template!r}: unknown placeholder {unknown[0]}; "
            f"use {' and '.join(PLACEHOLDERS)}"
        )
    if "{userName}" not in template:
        raise InvalidInput(f"UPN template {template!r} must contain {{userName}}")
    sample = fill(template, "jdoe", "tenant")
    if not is_address(sample):
        raise InvalidInput(
            f"UPN template {template!r} gives {sample!r} for userName 'jdoe', "
            "which is not name@domain"
        )
    return template


def fill(template: str, user_name: str, tenant: str) -> str:
    """The template with its placeholders replaced (the values are not read as a template)."""
    return _PLACEHOLDER.sub(
        lambda m: {"{userName}": user_name, "{tenant}": tenant}.get(m.group(0), m.group(0)),
        template,
    )


def work_email(resource: User[Any]) -> str | None:
    """The primary ``work`` e-mail, else the first ``work`` e-mail, else ``None``."""
    work = [
        e
        for e in resource.emails or []
        if e.value and e.value.strip() and e.type is not None and fold(str(e.type)) == "work"
    ]
    for email in work:
        if email.primary:
            return str(email.value).strip()
    return str(work[0].value).strip() if work else None


def derive_upn(
    resource: User[Any],
    *,
    tenant: str,
    template: Callable[[], str | None],
    current_upn: str | None = None,
    previous_user_name: str | None = None,
) -> str:
    """The UPN of a SCIM user by the rules of this module.

    ``template`` gives the tenant's template (``None``: the default); it is asked only when
    rule 4 applies. ``current_upn`` and ``previous_user_name``: the user's UPN and the
    ``userName`` SCIM last wrote, when the user exists.
    """
    user_name = (resource.user_name or "").strip()
    if not user_name:
        raise InvalidInput("userName is required")
    if is_address(user_name):
        return user_name
    if (
        current_upn is not None
        and previous_user_name is not None
        and fold(previous_user_name.strip()) == fold(user_name)
    ):
        return current_upn
    email = work_email(resource)
    if email is not None:
        if not is_address(email):
            raise InvalidInput(
                f"userName {user_name!r} is not an address and the work e-mail {email!r}, "
                "which would be the user principal name, is not name@domain"
            )
        return email
    used = template() or DEFAULT_TEMPLATE
    upn = fill(used, user_name, tenant)
    if not is_address(upn):
        raise InvalidInput(
            f"userName {user_name!r} is not an address and the user has no work e-mail; "
            f"the tenant's UPN template {used!r} gives {upn!r}, which is not name@domain"
        )
    return upn
