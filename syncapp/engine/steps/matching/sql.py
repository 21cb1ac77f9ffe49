"""The Match steps' SQL that differs by database, in one place."""

from django.db import connection
from django.db.models.expressions import RawSQL

from syncapp.models import MatchScanHit, Prospect

# A prospect's matched records as a JSON list, from the scan's hits: {hits} is the hits table,
# {prospect} the prospect table being updated; one parameter, the object.
_MATCHED_IDS = {
    "sqlite": (
        "SELECT json_group_array(h.record_id) FROM (SELECT record_id FROM {hits} "
        "WHERE object = %s AND prospect_pk = {prospect}.id ORDER BY record_id) h"
    ),
    "postgresql": (
        "SELECT COALESCE(jsonb_agg(record_id ORDER BY record_id), '[]'::jsonb) FROM {hits} "
        "WHERE object = %s AND prospect_pk = {prospect}.id"
    ),
}


def matched_ids(obj):
    """An UPDATE's value of a prospect's `matched_*_ids`: its hits on `obj` as a JSON list,
    in SQL; None where the database has no such SQL here."""
    template = _MATCHED_IDS.get(connection.vendor)
    if template is None:
        return None
    qn = connection.ops.quote_name
    return RawSQL(
        template.format(hits=qn(MatchScanHit._meta.db_table), prospect=qn(Prospect._meta.db_table)),
        (obj,),
    )


def last_visit_text(column):
    """(SELECT expression, spelled) of a prospect's last visit read as text rather than parsed
    by the driver into a datetime only to be formatted again. PostgreSQL spells it as
    Salesforce takes it (`sf_datetime`: UTC, milliseconds truncated, as to_char's MS does):
    spelled is True. SQLite gives its stored text, to be rewritten by the reader."""
    if connection.vendor == "sqlite":
        return f"CAST({column} AS TEXT)", False
    if connection.vendor == "postgresql":
        spelled = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')"""
        return spelled, True
    return column, False
