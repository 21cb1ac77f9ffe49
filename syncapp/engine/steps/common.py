"""What the data steps share: the SalesWings fields, value comparison, streaming helpers."""

import datetime as dt
import json
import math
from itertools import islice
from operator import itemgetter

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.constants import OnConflict
from psycopg.types.json import Jsonb

from syncapp.engine.steps import Step
from syncapp.models import FieldMapping, TagDefinition

PROSPECT_ID = "SW_Prospect_Id__c"
TAGS = "SW_Tags__c"
TEMPERATURE = "SW_Temperature__c"
LAST_VISIT = "SW_Last_Visit__c"
FAVORITE = "SW_Favorite__c"
PERSON_FIELDS = [PROSPECT_ID, TAGS, TEMPERATURE, LAST_VISIT, FAVORITE]


class PersonStep(Step):
    """A step over one side, Leads or Contacts: `obj` the object, `side` "lead" or "contact"
    (the prospects' columns of that side), `condition` what the object's SOQL WHERE starts
    with. The two sides' steps run side by side in the group `persons`, each side a lane of
    its own (its steps one after the other: steps/matching.py and steps/cleaning.py say why
    the sides may overlap)."""

    parallel_group = "persons"
    obj = ""
    side = ""
    condition = ""

    @property
    def lane(self):
        return self.side


HOTNESS = {"Hot": 3, "Warm": 2, "Cold": 1}
# PostgreSQL advisory lock key of the prospects' statuses (`lock_prospect_statuses`).
PROSPECT_STATUS_LOCK = 0x5357_5354  # "SWST"


def chunked(iterable, size):
    it = iter(iterable)
    while chunk := list(islice(it, size)):
        yield chunk


def keyset(queryset, size):
    """Stream a queryset in pages of `size` by primary key: bounded memory, and rows the
    caller changes while streaming (e.g. marks Processed) neither repeat nor shift pages."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not page:
            return
        yield page
        last = page[-1].pk


def parse_datetime(value):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def sf_datetime(value):
    """A datetime as Salesforce takes it (UTC, ISO 8601 with offset)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def soql_datetime(value):
    """A SOQL date-time literal (UTC, whole seconds, `Z`) for a stamp Salesforce answered.

    Rounded down to the second: with `>=` that reads a little more again, never less.
    """
    return parse_datetime(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same(current, desired):
    """Whether a Salesforce field already holds the value we would write.

    Salesforce answers numbers as floats, datetimes with milliseconds and `+0000`, empty text
    as null: compare meanings, not spellings, or a second cycle would rewrite everything.
    """
    if current is None:  # an empty field (every record's first write): what the rules give
        return desired is None or desired == "" or desired is False
    if desired is None or desired == "":
        return current is None or current == "" or current is False
    if isinstance(desired, bool):
        return bool(current) == desired
    if isinstance(desired, int | float):
        if current in (None, "") or isinstance(current, bool):
            return False
        try:
            return math.isclose(float(current), float(desired))
        except (TypeError, ValueError):
            return False
    if isinstance(desired, str) and isinstance(current, str) and "T" in desired:
        try:
            return parse_datetime(current) == parse_datetime(desired)
        except ValueError:
            pass
    return current == desired


def changes(record, desired):
    """The fields of `desired` whose value differs from the queried `record`."""
    get = record.get
    return {
        k: v
        for k, v in desired.items()
        # The same value of the same type is the same (the usual case of a later cycle);
        # anything else is compared by meaning.
        if not ((current := get(k)) == v and type(current) is type(v)) and not same(current, v)
    }


def join_tags(names):
    names = sorted(set(n for n in names if n))
    return ";".join(names) or None


def split_tags(value):
    return {t for t in (value or "").split(";") if t}


def tag_names():
    return dict(TagDefinition.objects.filter(active=True).values_list("backend_id", "name"))


def prospect_values(prospect, tags_by_id, score_fields):
    """What a matched Lead/Contact holds for this prospect."""
    return person_values(
        prospect.backend_id,
        join_tags(tags_by_id.get(t) for t in prospect.tags),
        prospect.temperature,
        sf_datetime(prospect.last_visit),
        prospect.favorite,
        prospect.scores,
        score_fields,
    )


def person_values(backend_id, tags_text, temperature, last_visit_text, favorite, scores, fields):
    """`prospect_values` from values already in Salesforce's form (tags joined, the last
    visit as text); `fields` maps score id to field."""
    values = {
        PROSPECT_ID: backend_id,
        TAGS: tags_text,
        TEMPERATURE: temperature or None,
        LAST_VISIT: last_visit_text,
        FAVORITE: bool(favorite),
    }
    for score_id, field in fields.items():
        values[field] = scores.get(score_id)
    return values


def cleared_values(score_fields):
    values = dict.fromkeys(PERSON_FIELDS)
    values[FAVORITE] = False
    for field in score_fields.values():
        values[field] = None
    return values


def person_score_fields(obj):
    return FieldMapping.fields_for(obj)


def describe_failure(result):
    codes = ", ".join(getattr(result, "codes", []) or [])
    errors = "; ".join(getattr(result, "errors", []) or []) or "rejected"
    return f"{codes}: {errors}" if codes else errors


def write(sf, batch, obj, updates, *, label=None):
    """Update records (each with Id) that really change; count and report per record.

    Returns {record id: None on success, or the failure message}.
    """
    if not updates:
        return {}
    return account(batch, obj, updates, sf.update(obj, updates), label=label)


def account(batch, obj, updates, results, *, label=None):
    """Count and report the per-record results of an update of `updates` (see `write`)."""
    outcome = {}
    for record, result in zip(updates, results, strict=True):
        if result.success:
            batch.modified += 1
            outcome[record["Id"]] = None
        else:
            message = f"{label or obj} {record['Id']}: {describe_failure(result)}"
            batch.record_failure(message)
            outcome[record["Id"]] = message
    return outcome


def soql_fields(fields):
    return ", ".join(dict.fromkeys(fields))


# Fields whose Python value is already what the database driver takes: no per-value call into
# Django's field machinery (which cost more than the SQL itself in the hot loops, measured:
# bench/cycle_sync.py --profile).
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


def _prepared(fields, rows, tail=()):
    """`rows` (sequences of values in `fields` order) as lists the driver takes: only the
    fields that need it are converted, the others are copied as they are; `tail` (values
    already prepared) is added to each."""
    conn = connections[DEFAULT_DB_ALIAS]
    preparers = [(i, p) for i, f in enumerate(fields) if (p := _preparer(f, conn)) is not None]
    out = []
    for row in rows:
        values = [*row, *tail]
        for i, prep in preparers:
            values[i] = prep(values[i])
        out.append(values)
    return out


def update_rows(objs, fields):
    """Save `fields` of each object by primary key: one prepared UPDATE run for all rows.

    Django's bulk_update builds a CASE expression per field over the whole batch, which cost
    more than the Salesforce round trips at 200 rows a batch (measured: bench/cycle_sync.py).
    """
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    qn = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(meta.db_table),
        ", ".join(f"{qn(f.column)} = %s" for f in columns),
        qn(meta.pk.column),
    )
    rows = _prepared(columns, ([getattr(obj, f.attname) for f in columns] for obj in objs))
    for row, obj in zip(rows, objs, strict=True):
        row.append(obj.pk)
    with connection.cursor() as cursor:
        execute_rows(cursor, sql, *_update_from_rows(meta, columns, meta.pk, rows))


def update_where(model, fields, key, rows):
    """Set `fields` on the rows whose `key` field matches: each row is the fields' values in
    order, then the key's value. One prepared UPDATE run by executemany."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    qn = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(meta.db_table),
        ", ".join(f"{qn(f.column)} = %s" for f in columns),
        qn(meta.get_field(key).column),
    )
    values = _prepared([*columns, meta.get_field(key)], rows)
    with connection.cursor() as cursor:
        execute_rows(cursor, sql, *_update_from_rows(meta, columns, meta.get_field(key), values))


def insert_rows(model, rows, *, unique_fields=(), update_fields=None, constants=None):
    """Insert `rows` (dicts by attribute name; missing fields take their model default) with
    one prepared INSERT run by executemany, instead of Django's bulk_create, whose SQL
    compilation per value cost more than the inserts (measured: bench/cycle_sync.py).

    `constants` (attribute name: value) are the same in every row: prepared once. So is the
    default of a field no row holds.

    On a conflict on `unique_fields`: `update_fields` None skips the row (DO NOTHING), a list
    overwrites those fields. Rows' values are taken as they are (no model validation), as with
    bulk_create.
    """
    if not rows:
        return
    meta = model._meta
    constants = dict(constants or {})
    held = set().union(*rows)
    fields = [
        f
        for f in meta.concrete_fields
        if f.attname not in constants and (not f.primary_key or f.attname in held)
    ]
    for f in fields:
        if f.attname not in held:  # no row holds it: its default, once
            constants[f.attname] = f.get_default()
    names = [f.attname for f in fields if f.attname not in constants]
    if all(len(row) == len(held) for row in rows):
        given = rows  # every row holds every field given
    else:
        defaults = {n: meta.get_field(n).get_default() for n in names}
        # Missing values from the defaults: a dict merge, in C.
        given = ({**defaults, **row} for row in rows)
    # A row's values in field order: an itemgetter, in C (a Python loop over the fields cost
    # more than the INSERT).
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    insert_values(
        model,
        names,
        map(pick, given),
        unique_fields=unique_fields,
        update_fields=update_fields,
        constants=constants,
    )


def insert_values(model, names, rows, *, unique_fields=(), update_fields=None, constants=None):
    """`insert_rows` for rows already in column order: each row holds the values of the
    fields `names` (attribute names; every field the model has no default for among them,
    or in `constants`: attribute name: value, the same in every row, prepared once)."""
    meta = model._meta
    constants = constants or {}
    fields = [meta.get_field(name) for name in [*names, *constants]]
    qn = connection.ops.quote_name
    on_conflict = None
    if unique_fields:
        on_conflict = OnConflict.UPDATE if update_fields else OnConflict.IGNORE
    into = "{} {} ({})".format(
        connection.ops.insert_statement(on_conflict=on_conflict),
        qn(meta.db_table),
        ", ".join(qn(f.column) for f in fields),
    )
    suffix = connection.ops.on_conflict_suffix_sql(
        fields,
        on_conflict,
        [meta.get_field(f).column for f in update_fields or ()],
        [meta.get_field(f).column for f in unique_fields],
    )
    suffix = f" {suffix}" if suffix else ""
    if constants:
        fixed = _prepared(fields[len(names) :], [list(constants.values())])[0]
        values = _prepared(fields[: len(names)], rows, fixed)
    else:
        values = _prepared(fields, rows)
    if not values:
        return
    pg_sql = None
    if connection.vendor == "postgresql":
        if unique_fields:
            # One statement may not touch a row twice (DO UPDATE refuses it): as executemany
            # would leave it, the last of a key's rows wins an update, the first an ignore.
            at = [[f.attname for f in fields].index(name) for name in unique_fields]
            values = _one_row_a_key(values, itemgetter(*at), on_conflict == OnConflict.UPDATE)
        pg_sql = f"{into} SELECT * FROM {pg_rows(fields)} AS v{suffix}"
    sql = "{} VALUES ({}){}".format(into, ", ".join(["%s"] * len(fields)), suffix)
    with connection.cursor() as cursor:
        execute_rows(cursor, sql, values, pg_sql)


# Rows one statement of PostgreSQL's path carries at most.
PG_ROWS = 1000


def execute_rows(cursor, sql, rows, pg_sql=None):
    """Run `sql` once per row of `rows` (sequences of parameters).

    SQLite: one prepared statement, `executemany`. PostgreSQL, given `pg_sql`, the same
    statement over up to `PG_ROWS` rows at a time, taking them as one JSON parameter
    (`pg_rows`): psycopg's executemany sends a statement per row, which the server parses and
    plans each time with Django's client-side binding. That made a 100,000 cycle on PostgreSQL
    twice as slow as on SQLite; a multi-row VALUES list was slower still, its text re-parsed by
    the client every time; one array a column was faster, but psycopg builds arrays in Python,
    value by value (docs/benchmarks.md, eleventh and twelfth sessions).
    """
    if not rows:
        return
    if pg_sql is None or connection.vendor != "postgresql":
        cursor.executemany(sql, rows)
        return
    for start in range(0, len(rows), PG_ROWS):
        cursor.execute(pg_sql, [_json_rows(rows[start : start + PG_ROWS])])


def _json_rows(rows):
    """The rows as one JSON array of arrays, for `pg_rows`: a JSON column's value (Django
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


def pg_rows(fields):
    """PostgreSQL: a subquery (to be aliased) of the rows of one parameter, a JSON array of
    arrays (`_json_rows`), a column a field, each value cast to its field's type from its
    text (a JSON column's value is a string of its JSON text)."""
    return "(SELECT {} FROM jsonb_array_elements(%s::jsonb) AS r)".format(
        ", ".join(f"(r->>{i})::{f.cast_db_type(connection)} AS c{i}" for i, f in enumerate(fields))
    )


def keys_in(column, keys):
    """(SQL, parameters) of `column` being one of `keys` (text, at least one). PostgreSQL
    takes the keys as one JSON parameter: with Django's client-side binding an IN list of 1,000
    parameters is 1,000 literals for the server to parse (1,000 prospect ids: ~6.6 -> ~4.2 ms
    a look-up, docs/benchmarks.md, thirteenth session). Elsewhere an IN list."""
    if connection.vendor == "postgresql":
        sql = f"{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
        return sql, [orjson.dumps(keys).decode()]
    return f"{column} IN ({', '.join(['%s'] * len(keys))})", list(keys)


def rows_by_keys(model, fields, key, keys):
    """The rows of `model` whose field `key` is one of `keys` (text), each a tuple of the
    values of `fields` (attribute names), by one plain SELECT (`keys_in`): for look-ups of a
    page or a chunk of keys on a hot path, where the ORM's statement building and model
    instances cost more than the look-up (as in GetProspects and the send-up)."""
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


# Rows a step must have written into a table before it refreshes PostgreSQL's statistics of it.
ANALYZE_AFTER_ROWS = 10_000


def refresh_statistics(model, written):
    """On PostgreSQL, ANALYZE `model`'s table once a step has written `written` rows into it,
    if that is many. The planner plans by the statistics autovacuum last took, not when the rows
    came: with activity sync on, a cycle that has just stored 100,000 prospects and 200,000
    activities was planned by the tables' earlier picture, and chose scans that read the whole
    pending set or a whole table once per batch, growing with the square of the cycle's size
    (docs/benchmarks.md, fourteenth session). A sample of the table, a few hundred milliseconds
    at that size.
    Elsewhere nothing: SQLite's planner does not use statistics it was not asked to gather."""
    if connection.vendor != "postgresql" or written < ANALYZE_AFTER_ROWS:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _update_from_rows(meta, columns, key, rows):
    """`rows` (each ending with its key) and PostgreSQL's form of `UPDATE table SET columns =
    %s... WHERE key = %s` over many rows (`execute_rows`): one UPDATE ... FROM (rows),
    where a key twice would be updated from either row, so only its last is kept (as
    executemany would leave it). Elsewhere `rows` as they are, and None."""
    if connection.vendor != "postgresql":
        return rows, None
    rows = _one_row_a_key(rows, itemgetter(-1), last=True)
    qn = connection.ops.quote_name
    names = [f"v{i}" for i in range(len(columns) + 1)]
    sets = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(columns, names, strict=False))
    return rows, (
        f"UPDATE {qn(meta.db_table)} AS t SET {sets} FROM {pg_rows([*columns, key])} "
        f"AS v ({', '.join(names)}) WHERE t.{qn(key.column)} = v.{names[-1]}"
    )


def lock_prospect_statuses():
    """Serialize the transactions that write prospects' statuses (in the caller's transaction,
    until it ends). The two Match steps, and the two Clean steps, run side by side and update
    the same prospects, each its own columns plus `sync_status` (and `last_error`); on
    PostgreSQL two such UPDATEs over many rows in different orders could deadlock. SQLite's
    transactions (IMMEDIATE) already take the database's one write lock when they begin."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROSPECT_STATUS_LOCK])
