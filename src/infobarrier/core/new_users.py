"""New users as columns: what a bulk import of new users writes, checked column-wise.

A first import of a tenant creates every user of its file. Building a :class:`User` per
row, then the row tuple the store writes from it, cost more than the parse at a million
rows (benchmarks/README.md, "The users import, column-wise"). Here the columns of the
file become the columns of the ``users`` table directly: the UPNs folded in one pass,
each attribute and proxy list encoded as JSON once per distinct value and the
attribute objects joined as text, the ``user_type`` and ``kind`` values as the stored
strings (docs/decisions.md, "The users CSV import path").

Pure: columns in, columns out. ``None`` means "a column-wise test could not vouch for
these values": the caller then takes the reference path, which checks every user with
:func:`core.directory.check_user` and names the first error; never an error of its own.
The column-wise tests are those of :mod:`core.limits`, each a sound shortcut of a
per-value check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from infobarrier.core.directory import User, UserKind, UserType, fold
from infobarrier.core.errors import InvalidInput
from infobarrier.core.limits import (
    MAX_ATTRIBUTE_VALUE,
    MAX_DISPLAY_NAME,
    MAX_PROXY_ADDRESSES,
    check_mail,
    plain_address,
    plain_addresses,
    texts_fit,
)


@dataclass(frozen=True, slots=True)
class NewUsers:
    """Users to create, one list per ``users`` column, all of one length.

    ``attributes`` and ``proxy_addresses`` hold JSON text, byte for byte what
    ``orjson.dumps`` gives for the user's attributes dict (in column order) and proxy
    list; ``user_types`` the stored value of :class:`UserType`. Every user is a person
    without sponsor (what the users CSV creates).
    """

    ids: list[str]
    upns: list[str]
    upn_keys: list[str]
    display_names: list[str]
    mails: list[str]
    enabled: list[bool]
    user_types: list[str]
    hidden: list[bool | None]
    attributes: list[str]
    proxy_addresses: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def users(self) -> list[User]:
        """The same users as :class:`User` objects (tests, and small callers)."""
        types = {t.value: t for t in UserType}
        return [
            User(
                uid,
                upn,
                name,
                mail,
                on,
                types[kind],
                hide,
                UserKind.PERSON,
                None,
                orjson.loads(attrs),
                tuple(orjson.loads(proxies)),
            )
            for uid, upn, name, mail, on, kind, hide, attrs, proxies in zip(
                self.ids,
                self.upns,
                self.display_names,
                self.mails,
                self.enabled,
                self.user_types,
                self.hidden,
                self.attributes,
                self.proxy_addresses,
                strict=True,
            )
        ]


def new_users(
    ids: list[str],
    upns: list[str],
    *,
    display_names: list[str] | None = None,
    mails: list[str] | None = None,
    enabled: list[bool] | None = None,
    user_types: Sequence[UserType] | None = None,
    hidden: list[bool | None] | None = None,
    proxy_addresses: Sequence[tuple[str, ...]] | None = None,
    attributes: Mapping[str, list[str]] | None = None,
) -> NewUsers | None:
    """The users of these columns, as :func:`check_user` would pass them, or ``None``.

    ``upns`` must already pass :func:`core.limits.check_upn` unchanged (the parser checked
    them), ``ids`` be the ids to give (distinct). A missing column takes the value a new
    user has without it: display name the UPN's local part, no mail, enabled, Member, not
    hidden or unset, no proxies, no attributes. ``attributes`` maps stored attribute names
    to their cells in the file's column order; empty cells are not stored. Values are
    kept as given (the caller stripped them, as the reference parser does).
    """
    n = len(upns)
    if len(ids) != n:
        raise ValueError("ids and upns differ in length")
    keys = _folded(upns)
    names = display_names if display_names is not None else [""] * n
    if "" in names:
        names = [name or upn.split("@")[0] for name, upn in zip(names, upns, strict=True)]
    if not texts_fit(names, MAX_DISPLAY_NAME):
        return None
    mail_column = mails if mails is not None else [""] * n
    if not _mails_pass(mail_column):
        return None
    proxies = _proxies_json(proxy_addresses, n)
    attrs = _attributes_json(attributes or {}, n)
    if proxies is None or attrs is None:
        return None
    types = _stored(user_types, n, UserType.MEMBER)
    return NewUsers(
        ids=ids,
        upns=upns,
        upn_keys=keys,
        display_names=names,
        mails=mail_column,
        enabled=enabled if enabled is not None else [True] * n,
        user_types=types,
        hidden=hidden if hidden is not None else [None] * n,
        attributes=attrs,
        proxy_addresses=proxies,
    )


def _folded(upns: list[str]) -> list[str]:
    """``fold`` of every UPN: of ASCII text it is ``lower``, done once over the joined
    column (a checked UPN holds no line break)."""
    joined = "\n".join(upns)
    if joined.isascii():
        return joined.lower().split("\n") if upns else []
    return [fold(upn) for upn in upns]


def _mails_pass(mails: list[str]) -> bool:
    """Whether every mail passes ``check_mail`` unchanged (``""``: none)."""
    given = [m for m in mails if m] if "" in mails else mails
    if plain_addresses(given):
        return True
    for mail in given:
        if plain_address(mail):
            continue
        try:
            if check_mail(mail) != mail:
                return False
        except InvalidInput:
            return False
    return True


def _stored(kinds: Sequence[UserType] | None, n: int, default: UserType) -> list[str]:
    """The stored values of a column of :class:`UserType`, each distinct member once."""
    if kinds is None:
        return [default.value] * n
    value = {kind: kind.value for kind in set(kinds)}
    return list(map(value.__getitem__, kinds))


def _proxies_json(cells: Sequence[tuple[str, ...]] | None, n: int) -> list[str] | None:
    """Each user's proxy list as JSON text, each distinct list checked and encoded once."""
    if cells is None:
        return ["[]"] * n
    encoded: dict[tuple[str, ...], str] = {}
    for addresses in set(cells):
        if len(addresses) > MAX_PROXY_ADDRESSES or not texts_fit(addresses, MAX_ATTRIBUTE_VALUE):
            return None
        try:
            encoded[addresses] = orjson.dumps(addresses).decode()
        except orjson.JSONEncodeError:
            return None
    return list(map(encoded.__getitem__, cells))


def _attributes_json(columns: Mapping[str, list[str]], n: int) -> list[str] | None:
    """Each user's non-empty attributes as a JSON object in column order, the text
    ``orjson.dumps`` gives for that dict, built column-wise (no dict per user): each
    column is encoded as one JSON array (:func:`_encoded`); with no empty cell a user's
    object is one ``str.format`` of its cells; else each cell becomes its member
    ``,"Name":"value"`` (nothing when empty), a user's members are joined and the first
    comma replaced by the brace."""
    for column in columns.values():
        if len(column) != n or not texts_fit(column, MAX_ATTRIBUTE_VALUE):
            return None
    if not columns or not n:
        return ["{}"] * n
    try:
        keys = [orjson.dumps(name).decode() for name in columns]
        cells = [_encoded(column) for column in columns.values()]
    except orjson.JSONEncodeError:
        return None  # a lone surrogate: no JSON text (the reference fails on it too)
    if all("" not in column for column in columns.values()):
        template = ",".join(f'{_braces(key)}:"{{}}"' for key in keys)
        return list(map(("{{" + template + "}}").format, *cells))
    members: list[list[str]] = []
    for key, column, encoded in zip(keys, columns.values(), cells, strict=True):
        member = f',{_braces(key)}:"{{}}"'.format
        if "" in column:
            members.append([member(e) if e else "" for e in encoded])
        else:
            members.append(list(map(member, encoded)))
    joined = map("".join, zip(*members, strict=True)) if len(members) > 1 else members[0]
    return list(map(_braced, joined))


def _encoded(column: list[str]) -> list[str]:
    """Each value's JSON string without its quotes, from one ``orjson.dumps`` of the
    column: inside an encoded string every quote follows a backslash, so ``","``
    only ever separates two values."""
    return orjson.dumps(column).decode()[2:-2].split('","')


def _braces(text: str) -> str:
    """``text`` inside a ``str.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _braced(members: str) -> str:
    """``,"A":1,"B":2`` as ``{"A":1,"B":2}`` (``""`` as ``{}``)."""
    return "{" + members[1:] + "}"
