"""Many rows at once: the sync's inserts, updates and look-ups on its hot paths.

Plain prepared statements instead of the ORM's bulk_create, bulk_update and `__in` look-ups,
whose SQL compilation per value cost more than the writes themselves. SQLite runs one prepared
statement per row (`executemany`); PostgreSQL takes up to `PG_ROWS` rows a statement as one
JSON parameter, since with Django's client-side binding its server would otherwise parse and
plan one statement per row.

Beside the models: it depends on Django, psycopg and orjson only, and reads no model of its own.

- `insert(model, rows, unique=..., update=...)`: rows as dicts (missing fields take their
  default); with `unique`, an upsert (`update` None: a conflicting row is skipped).
- `insert_columns(model, names, rows, ...)`: the same for rows already in column order.
- `update_by_key(model, fields, key, rows)`: set fields of the rows a key field names.
- `select_by_keys(model, fields, key, keys)`: the rows a key field names, as tuples.
- `keys_in(column, keys)`: the WHERE of such a look-up.
- `refresh_statistics(model, written)`, `lock_prospect_statuses()`.
"""

import datetime as dt
import json
from operator import itemgetter

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.constants import OnConflict
from psycopg.types.json import Jsonb

# Rows one statement of PostgreSQL's path carries at most.
PG_ROWS = 1000
# Rows a step must have written into a table before it refreshes PostgreSQL's statistics of it.
ANALYZE_AFTER_ROWS = 10_000
# PostgreSQL advisory lock key of the prospects' statuses (`lock_prospect_statuses`).
PROSPECT_STATUS_LOCK = 0x5357_5354  # "SWST"


def insert(model, rows, *, unique=(), update=None):
    """Insert `rows` (dicts by attribute name; a field a row lacks takes its model default)
    with one prepared INSERT. Rows' values are taken as they are (no model validation), as
    with bulk_create.

    On a conflict on the fields `unique`: `update` None skips the row (DO NOTHING), a list of
    fields overwrites those. A key twice in `rows`: the last row wins an update, the first an
    ignore (as executemany leaves it).
    """
    if not rows:
        return
    held = set().union(*rows)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in held]
    names = [f.attname for f in fields]
    if held.issuperset(names) and all(len(row) == len(held) for row in rows):
        given = rows  # every row holds every field
    else:
        defaults = {f.attname: f.get_default() for f in fields}
        # Missing values from the defaults: a dict merge, in C.
        given = ({**defaults, **row} for row in rows)
    # A row's values in field order: an itemgetter, in C (a Python loop over the fields cost
    # more than the INSERT).
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    insert_columns(model, names, map(pick, given), unique=unique, update=update)


def insert_columns(model, names, rows, *, unique=(), update=None):
    """`insert` for rows already in column order: each row holds the values of the fields
    `names` (attribute names; every field without a default among them)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    on_conflict = None
    if unique:
        on_conflict = OnConflict.UPDATE if update else OnConflict.IGNORE
    into = "{} {} ({})".format(
        connection.ops.insert_statement(on_conflict=on_conflict),
        qn(meta.db_table),
        ", ".join(qn(f.column) for f in fields),
    )
    suffix = connection.ops.on_conflict_suffix_sql(
        fields,
        on_conflict,
        [meta.get_field(f).column for f in update or ()],
        [meta.get_field(f).column for f in unique],
    )
    suffix = f" {suffix}" if suffix else ""
    values = _prepared(fields, rows)
    if not values:
        return
    pg_sql = None
    if connection.vendor == "postgresql":
        if unique:
            # One statement may not touch a row twice (DO UPDATE refuses it).
            at = [[f.attname for f in fields].index(name) for name in unique]
            values = _one_row_a_key(values, itemgetter(*at), on_conflict == OnConflict.UPDATE)
        pg_sql = f"{into} SELECT * FROM {_pg_rows(fields)} AS v{suffix}"
    sql = "{} VALUES ({}){}".format(into, ", ".join(["%s"] * len(fields)), suffix)
    with connection.cursor() as cursor:
        _execute_rows(cursor, sql, values, pg_sql)


def update_by_key(model, fields, key, rows):
    """Set `fields` (attribute names) on the rows of `model` whose field `key` matches: each
    of `rows` is the fields' values in order, then the key's value. A key twice: its last row
    wins (as executemany leaves it)."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    key_field = meta.get_field(key)
    qn = connection.ops.quote_name
    values = _prepared([*columns, key_field], rows)
    pg_sql = None
    if connection.vendor == "postgresql":
        # UPDATE ... FROM (rows): a key twice would be updated from either row.
        values = _one_row_a_key(values, itemgetter(-1), last=True)
        names = [f"v{i}" for i in range(len(columns) + 1)]
        sets = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(columns, names, strict=False))
        pg_sql = (
            f"UPDATE {qn(meta.db_table)} AS t SET {sets} FROM {_pg_rows([*columns, key_field])} "
            f"AS v ({', '.join(names)}) WHERE t.{qn(key_field.column)} = v.{names[-1]}"
        )
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(meta.db_table),
        ", ".join(f"{qn(f.column)} = %s" for f in columns),
        qn(key_field.column),
    )
    with connection.cursor() as cursor:
        _execute_rows(cursor, sql, values, pg_sql)


def select_by_keys(model, fields, key, keys):
    """The rows of `model` whose field `key` is one of `keys` (text), each a tuple of the
    values of `fields` (attribute names), by one plain SELECT (`keys_in`): no statement
    building and no model instances on a hot path's look-up of a page of keys."""
    if not keys:
        return []
    meta, qn = model._meta, connection.ops.quote_name
    where, params = keys_in(qn(meta.get_field(key).column), keys)
    sql = "SELECT {} FROM {} WHERE {}".format(
        ", ".join(qn(meta.get_field(name).column) for name in fields), qn(meta.db_table), where
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def keys_in(column, keys):
    """(SQL, parameters) of `column` being one of `keys` (text, at least one). PostgreSQL
    takes the keys as one JSON parameter: with Django's client-side binding an IN list of
    1,000 parameters is 1,000 literals for the server to parse. Elsewhere an IN list."""
    if connection.vendor == "postgresql":
        sql = f"{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
        return sql, [orjson.dumps(keys).decode()]
    return f"{column} IN ({', '.join(['%s'] * len(keys))})", list(keys)


def refresh_statistics(model, written):
    """On PostgreSQL, ANALYZE `model`'s table once a step has written `written` rows into it,
    if that is many: the planner plans by the statistics autovacuum last took, and with the
    table's earlier picture it chose scans that read the whole pending set or a whole table
    once per batch. Elsewhere nothing: SQLite's planner does not use statistics it was not
    asked to gather."""
    if connection.vendor != "postgresql" or written < ANALYZE_AFTER_ROWS:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def lock_prospect_statuses():
    """Serialize the transactions that write prospects' statuses (in the caller's transaction,
    until it ends). The two Match steps, and the two Clean steps, run side by side and update
    the same prospects, each its own columns plus `sync_status` (and `last_error`); on
    PostgreSQL two such UPDATEs over many rows in different orders could deadlock. SQLite's
    transactions (IMMEDIATE) already take the database's one write lock when they begin."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROSPECT_STATUS_LOCK])


# --- preparing values for the driver --------------------------------------------------------

# Fields whose Python value is already what the database driver takes: no per-value call into
# Django's field machinery (which cost more than the SQL itself in the hot loops).
_PLAIN = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)


def _preparer(field, conn):
    """The per-value conversion for `field`, bound once to the real connection (the
    `django.db.connection` proxy costs a thread-local lookup per use)."""
    if isinstance(field, _PLAIN) and not field.is_relation:
        return None
    ops = conn.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        if (
            encoder is None
            and type(ops).adapt_json_value is BaseDatabaseOperations.adapt_json_value
        ):
            # The base adapter is json.dumps(value, cls=None): called directly, and not at all
            # for an empty list or object (the defaults of most rows).
            return _json_text
        # What JSONField.get_db_prep_save does for a plain value: None is SQL NULL.
        return lambda value: None if value is None else ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DateTimeField):
        prep = field.get_prep_value  # makes naive values aware, with Django's warning
        slow = lambda value: ops.adapt_datetimefield_value(prep(value))  # noqa: E731
        if conn.vendor != "sqlite" or conn.timezone_name != "UTC":
            return slow
        # SQLite stores an aware value as its naive UTC text (Django's adapter: make_naive in
        # the connection's zone, then str()); a value already in UTC, the usual case, is
        # written so without Django's checks (its text without the "+00:00"). Anything else
        # goes through Django. The last value is remembered: a column often holds one value
        # for a whole batch (a fetch time).
        last = [None, None]

        def utc_text(value):
            if value is last[0]:
                return last[1]
            if type(value) is dt.datetime and value.tzinfo is dt.UTC:
                text = value.isoformat(" ")[:-6]
            else:
                text = slow(value)
            last[:] = value, text
            return text

        return utc_text
    return lambda value: field.get_db_prep_save(value, conn)


_quote = json.encoder.encode_basestring_ascii  # json.dumps' own quoting of a string
_INT_TEXT = {int: int.__repr__}  # by exact type: a bool is an int that json.dumps spells true


def _json_text(value):
    """json.dumps(value), with shortcuts for the usual values, spelled exactly as json.dumps
    spells them: None (SQL NULL), an empty list or object, a list of strings (tag ids), an
    object of integers by text keys (scores)."""
    if value is None:
        return None
    kind = type(value)
    try:
        if kind is list:
            return "[" + ", ".join(map(_quote, value)) + "]"
        if kind is dict:
            items = [_quote(k) + ": " + _INT_TEXT[type(v)](v) for k, v in value.items()]
            return "{" + ", ".join(items) + "}"
    except (TypeError, KeyError):  # something else inside: json.dumps spells it
        pass
    return json.dumps(value)


def _prepared(fields, rows):
    """`rows` (sequences of values in `fields` order) as lists the driver takes: only the
    fields that need it are converted, the others are copied as they are."""
    conn = connections[DEFAULT_DB_ALIAS]
    preparers = [(i, p) for i, f in enumerate(fields) if (p := _preparer(f, conn)) is not None]
    out = []
    for row in rows:
        values = [*row]
        for i, prep in preparers:
            values[i] = prep(values[i])
        out.append(values)
    return out


# --- running a statement over many rows -----------------------------------------------------


def _execute_rows(cursor, sql, rows, pg_sql=None):
    """Run `sql` once per row of `rows` (sequences of parameters).

    SQLite: one prepared statement, `executemany`. PostgreSQL, given `pg_sql`, the same
    statement over up to `PG_ROWS` rows at a time, taking them as one JSON parameter
    (`_pg_rows`): psycopg's executemany sends a statement per row, which the server parses and
    plans each time with Django's client-side binding; a multi-row VALUES list is re-parsed by
    the client every time, and psycopg builds array parameters in Python, value by value.
    """
    if not rows:
        return
    if pg_sql is None or connection.vendor != "postgresql":
        cursor.executemany(sql, rows)
        return
    for start in range(0, len(rows), PG_ROWS):
        cursor.execute(pg_sql, [_json_rows(rows[start : start + PG_ROWS])])


def _json_rows(rows):
    """The rows as one JSON array of arrays, for `_pg_rows`: a JSON column's value (Django
    gives it as psycopg's `Jsonb`) as a string of its JSON text, so that SQL NULL (JSON null)
    and a JSON null value (the string "null") stay apart."""
    return orjson.dumps(rows, default=_json_column).decode()


def _json_column(value):
    if isinstance(value, Jsonb):
        dumps = value.dumps
        if dumps is None or dumps is json.dumps:
            # What json.dumps writes, but in C. (NaN and Infinity, which json.dumps writes and
            # PostgreSQL refuses, are refused where they come in: steps/prospects.py.)
            return orjson.dumps(value.obj).decode()
        return dumps(value.obj)  # a field's own encoder
    raise TypeError(f"a {type(value).__name__} value cannot go in a JSON parameter")


def _one_row_a_key(rows, key, last):
    """`rows` with one row a key (`key(row)`): its last or its first, at the place of its
    first."""
    kept = {}
    for row in rows:
        k = key(row)
        if last or k not in kept:
            kept[k] = row
    return list(kept.values())


def _pg_rows(fields):
    """PostgreSQL: a subquery (to be aliased) of the rows of one parameter, a JSON array of
    arrays (`_json_rows`), a column a field, each value cast to its field's type from its
    text (a JSON column's value is a string of its JSON text)."""
    return "(SELECT {} FROM jsonb_array_elements(%s::jsonb) AS r)".format(
        ", ".join(f"(r->>{i})::{f.cast_db_type(connection)} AS c{i}" for i, f in enumerate(fields))
    )
