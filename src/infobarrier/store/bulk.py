"""Set-based writes: many rows per statement, inside the session's transaction.

A directory of a million users is written as a few statements, not a million ORM objects:
``executemany`` of one parameterised statement through SQLAlchemy Core
(``Connection.exec_driver_sql``: no per-row compilation), and ``COPY ... FROM STDIN`` on
PostgreSQL (psycopg 3) for inserts, which streams every row in one command. All of it
runs on the session's own connection, so the rows commit or roll back with everything
else the transaction did (all rows or none).

Values are plain Python values; JSON columns are encoded once, with ``orjson``, and sent
as text (SQLite stores JSON as text; PostgreSQL casts the untyped text to ``json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

#: Rows per ``executemany`` call (bounds the memory of one batch of parameters).
BATCH = 20_000

Encoder = Callable[[Any], Any] | None


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class (``UserRow`` -> ``users``)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


def dialect(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _encoders(table: Table, columns: Sequence[str]) -> list[Encoder]:
    """Per column: the JSON encoder for JSON columns, else ``None`` (the value as given)."""
    return [_json_text if isinstance(table.c[c].type, JSON) else None for c in columns]


def _encoded(rows: Iterable[Sequence[Any]], encoders: Sequence[Encoder]) -> Iterable[Sequence[Any]]:
    """The rows with their JSON columns encoded (the rows themselves when none is)."""
    if not any(e is not None for e in encoders):
        return rows
    return (
        tuple(e(v) if e is not None else v for e, v in zip(encoders, row, strict=True))
        for row in rows
    )


def _batches(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


class _Sql:
    """Quoted names and the driver's positional placeholder."""

    def __init__(self, session: Session) -> None:
        bind = session.get_bind()
        self.quote = bind.dialect.identifier_preparer.quote
        self.mark = "?" if bind.dialect.name == "sqlite" else "%s"

    def where(self, keys: Sequence[str]) -> str:
        return " AND ".join(f"{self.quote(k)} = {self.mark}" for k in keys)


def _executemany(session: Session, sql: str, rows: Iterable[Sequence[Any]]) -> int:
    connection = session.connection()
    count = 0
    for batch in _batches(rows):
        connection.exec_driver_sql(sql, batch)
        count += len(batch)
    if count:
        _written(session)
    return count


def _written(session: Session) -> None:
    """Rows changed behind the ORM's back: objects it loaded earlier in this transaction
    are expired, so a later ORM read sees the new values (not its identity map's)."""
    session.expire_all()


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    json_text: bool = False,
) -> int:
    """Insert ``rows`` (tuples of Python values in ``columns`` order); returns how many.

    PostgreSQL: one ``COPY`` of all rows. Elsewhere: ``executemany`` of one ``INSERT``.
    ``json_text``: the rows' JSON columns already hold their JSON text (encoded by the
    caller, which saves a pass over every row).
    """
    session.flush()  # ORM changes pending in this transaction go first
    sql = _Sql(session)
    encoded = _encoded(rows, [None] * len(columns) if json_text else _encoders(table, columns))
    listed = ", ".join(sql.quote(c) for c in columns)
    if dialect(session) == "postgresql":
        raw: Any = session.connection().connection.driver_connection
        count = 0
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {sql.quote(table.name)} ({listed}) FROM STDIN") as copy,
        ):
            for row in encoded:
                copy.write_row(row)
                count += 1
        if count:
            _written(session)
        return count
    marks = ", ".join(sql.mark for _ in columns)
    return _executemany(
        session, f"INSERT INTO {sql.quote(table.name)} ({listed}) VALUES ({marks})", encoded
    )


def update_rows(
    session: Session,
    table: Table,
    keys: Sequence[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    json_text: bool = False,
) -> int:
    """``UPDATE`` the rows found by ``keys`` with ``columns``, as ``executemany``.

    Each tuple holds the values of ``columns`` then those of ``keys``; returns how many
    tuples were given. ``json_text`` as for :func:`insert_rows`.
    """
    session.flush()
    sql = _Sql(session)
    assignments = ", ".join(f"{sql.quote(c)} = {sql.mark}" for c in columns)
    statement = f"UPDATE {sql.quote(table.name)} SET {assignments} WHERE {sql.where(keys)}"
    encoders = [
        *([None] * len(columns) if json_text else _encoders(table, columns)),
        *([None] * len(keys)),
    ]
    return _executemany(session, statement, _encoded(rows, encoders))


def delete_rows(
    session: Session, table: Table, keys: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """``DELETE`` the rows whose ``keys`` equal each tuple, as ``executemany``."""
    session.flush()
    sql = _Sql(session)
    statement = f"DELETE FROM {sql.quote(table.name)} WHERE {sql.where(keys)}"
    return _executemany(session, statement, _encoded(rows, [None] * len(keys)))


#: ``COPY``'s text format: these characters are written as backslash escapes.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
#: ``COPY``'s text form of a boolean, or of ``None`` (``NULL``).
COPY_FLAGS: dict[bool | None, str] = {True: "t", False: "f", None: "\\N"}


def copy_texts(values: list[str]) -> list[str]:
    """Texts as fields of ``COPY``'s text format: escaped (one ``str.replace`` per
    escape over the column's values) only when the column holds a character to escape."""
    joined = "".join(values)
    found = [pair for pair in _COPY_ESCAPES if pair[0] in joined]
    if not found:
        return values
    out = values
    for raw, escaped in found:
        out = [v.replace(raw, escaped) for v in out]
    return out


def copy_columns(
    session: Session, table: Table, columns: Sequence[str], fields: Sequence[Iterable[str]]
) -> None:
    """PostgreSQL: ``COPY`` rows given as columns of fields already in ``COPY``'s text
    format (:func:`copy_texts`, :data:`COPY_FLAGS`), written a batch of lines at a time
    (``str.join`` over the zipped columns: no Python per row, where ``write_row`` takes
    one call per row)."""
    session.flush()
    sql = _Sql(session)
    listed = ", ".join(sql.quote(c) for c in columns)
    raw: Any = session.connection().connection.driver_connection
    rows = map("\t".join, zip(*fields, strict=True))
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {sql.quote(table.name)} ({listed}) FROM STDIN") as copy,
    ):
        while batch := list(islice(rows, BATCH)):
            copy.write(("\n".join(batch) + "\n").encode())
    _written(session)
