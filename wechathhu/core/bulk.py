"""Writing many rows at once, cheaper than ``bulk_create``.

``bulk_create`` turns every value of every row into SQL through its field (``get_db_prep_save``)
and builds one placeholder group per row in Python: for a fan-out of 10 000 delivery rows that is
most of the time the publishing step takes (measured: ~70 % of it, the database's own work ~20 %).
:func:`insert_ignore` sends plain value tuples as multi-row ``INSERT``\\s and skips rows that
would break a unique constraint (``INSERT IGNORE`` on MariaDB/MySQL, ``INSERT OR IGNORE`` on
SQLite, ``ON CONFLICT DO NOTHING`` elsewhere), as ``bulk_create(ignore_conflicts=True)`` does. On
MariaDB each batch is one statement whose values are written in, each distinct value escaped once
by the driver: a batch repeats a handful of distinct values (a status, a timestamp, a channel)
thousands of times, and escaping every occurrence (``executemany``'s way) was a third of a
2 000-row publishing step. Other engines bind parameters (``executemany``).

The caller gives values the database takes as they are: ints, strings, None, and datetimes and
dates through :func:`db_datetime` / :func:`db_date` (Django's own adaptation, e.g. naive UTC on
MariaDB). Fields the caller leaves out get their column's default — NULL for the nullable ones —
so every NOT NULL field without a database default must be listed. No signals, no ``save()``:
use it for rows that carry data only (outbox rows, recipient rows).

:func:`insert_ignore_returning` does the same and answers fields of the rows it wrote
(``INSERT … RETURNING``: MariaDB ≥ 10.5 and SQLite ≥ 3.35 return only the rows inserted, not those
a unique constraint ignored), so an outbox fan-out needs no second query to learn what to queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.db.models import Model

DEFAULT_BATCH = 2000


def db_datetime(value: dt.datetime | None, *, using: str = "default"):
    return connections[using].ops.adapt_datetimefield_value(value)


def db_date(value: dt.date | None, *, using: str = "default"):
    return connections[using].ops.adapt_datefield_value(value)


def _statement(model: type[Model], fields: Sequence[str], vendor: str, quote) -> str:
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    values = ", ".join(["%s"] * len(fields))
    # Only the model's own (quoted) table and column names are formatted in; values are parameters.
    if vendor == "mysql":
        return f"INSERT IGNORE INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    if vendor == "sqlite":
        return f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"  # noqa: S608


def insert_ignore(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence], *, batch_size: int = DEFAULT_BATCH
) -> int:
    """Insert ``rows`` (tuples of database-ready values, in the order of ``fields``) into
    ``model``'s table, in batches of ``batch_size``, skipping those that conflict with a unique
    constraint. Returns how many rows were given (not how many were new: the engines differ)."""
    using = router.db_for_write(model)
    connection = connections[using]
    sql = _statement(model, fields, connection.vendor, connection.ops.quote_name)
    rows = list(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            for statement in _rendered(connection, sql, rows, batch_size):
                cursor.execute(statement)
        else:
            for start in range(0, len(rows), batch_size):
                cursor.executemany(sql, rows[start : start + batch_size])
    return len(rows)


def _rendered(connection, sql: str, rows: list, batch_size: int, tail: str = ""):
    """MariaDB: ``sql``'s ``INSERT`` with ``batch_size`` rows' values written in, per statement
    (each distinct value escaped once by the driver; see the module's docstring)."""
    head = sql.split(" VALUES ")[0]
    render = _literals(connection)
    for start in range(0, len(rows), batch_size):
        values = ",".join("(" + ",".join(map(render, row)) + ")" for row in rows[start : start + batch_size])
        yield f"{head} VALUES {values}{tail}"


def _literals(connection):
    """A function rendering one value as MariaDB SQL, each distinct value escaped once (by the
    driver's own ``literal``, what ``executemany`` uses); ints are written as they are."""
    literal = connection.connection.literal
    encoding = connection.connection.character_set_name()
    encoding = "utf-8" if encoding.startswith("utf8") else encoding
    seen: dict = {}

    def render(value) -> str:
        if type(value) is int:
            return str(value)
        text = seen.get(value)
        if text is None:
            text = seen[value] = literal(value).decode(encoding)
        return text

    return render


def insert_ignore_returning(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    returning: Sequence[str] = ("id",),
    batch_size: int = DEFAULT_BATCH,
) -> list[tuple] | None:
    """:func:`insert_ignore`, answering the ``returning`` fields (the primary key by default) of
    each row written, as tuples — those a unique constraint ignored are not among them. None,
    having written the rows, on an engine that cannot return them from an insert (MySQL: read
    them back)."""
    using = router.db_for_write(model)
    connection = connections[using]
    rows = list(rows)
    if not connection.features.can_return_columns_from_insert:
        insert_ignore(model, fields, rows, batch_size=batch_size)
        return None
    sql = _statement(model, fields, connection.vendor, connection.ops.quote_name)
    head = sql.split(" VALUES ")[0]
    quote = connection.ops.quote_name
    returning = " RETURNING " + ", ".join(quote(model._meta.get_field(name).column) for name in returning)
    written: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            for statement in _rendered(connection, sql, rows, batch_size, returning):
                cursor.execute(statement)
                written += map(tuple, cursor.fetchall())
        else:  # bound parameters, within the engine's limit on them
            per_statement = max(
                1, min(batch_size, (connection.features.max_query_params or 999) // len(fields))
            )
            group = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for start in range(0, len(rows), per_statement):
                batch = rows[start : start + per_statement]
                cursor.execute(
                    f"{head} VALUES {', '.join([group] * len(batch))}{returning}",
                    [value for row in batch for value in row],
                )
                written += map(tuple, cursor.fetchall())
    return written
