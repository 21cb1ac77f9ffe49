"""Scan mode's look-up of the pending prospects of a page's e-mails (`ProspectLookup`)."""

import datetime as dt
from typing import NamedTuple

from django.db import connection

from syncapp import bulk
from syncapp.engine.steps.common import join_tags, sf_datetime
from syncapp.engine.steps.matching import sql
from syncapp.fastjson import loads
from syncapp.models import Lifecycle, Prospect, SyncStatus

# E-mails a look-up statement asks for at once (SQLite's historical limit of bound parameters
# is 999).
LOOKUP_CHUNK = 900


class LookedUp(NamedTuple):
    """What scan mode's comparison needs of a prospect (`person_values`), read without model
    instances: its tags joined into names, its last visit as Salesforce takes it."""

    pk: int
    backend_id: str
    seq: int
    email_key: str
    tags_text: str | None
    scores: dict
    temperature: str
    last_visit_text: str | None
    favorite: bool


class _Stored(NamedTuple):
    """A row as the look-up's SELECT reads it, in column order."""

    pk: int
    backend_id: str
    seq: int
    email_key: str
    tags: object  # JSON text, or already decoded
    scores: object
    temperature: str
    last_visit: object  # text (see `sql.last_visit_text`)
    favorite: bool
    lifecycle: str
    sync_status: str
    pending: bool  # this side's
    attempts: int  # this side's


def _fields(side):
    """The prospect field each column of `_Stored` is read from."""
    return {
        **{name: name for name in _Stored._fields},
        "pk": "id",
        "pending": f"{side}_pending",
        "attempts": f"{side}_sync_attempts",
    }


class ProspectLookup:
    """Scan mode's look-up of the pending prospects of a page's e-mails, by the e-mail index.

    The pending conditions are checked here, not in SQL: filtered there, SQLite walks the
    (sync_status, lifecycle) index over every pending prospect instead (see
    `ProspectQuerySet.email_claims`). Values are read with one plain SELECT and converted
    here (JSON text or already decoded, naive UTC text or aware date-times), not through
    model instances.
    """

    def __init__(self, side, max_attempts, tags_by_id):
        self.max_attempts = max_attempts
        self.tags_by_id = tags_by_id
        self.tags = {}  # a tag list's JSON text: the names joined (few lists, many prospects)
        meta = Prospect._meta
        qn = connection.ops.quote_name
        columns = {read: qn(meta.get_field(field).column) for read, field in _fields(side).items()}
        columns["last_visit"], spelled = sql.last_visit_text(columns["last_visit"])
        self.visit_text = None if spelled else _sf_text
        self.sql = "SELECT {} FROM {} WHERE ".format(
            ", ".join(columns[read] for read in _Stored._fields), qn(meta.db_table)
        )
        self.key_column = qn(meta.get_field("email_key").column)
        # PostgreSQL takes a page's keys at once, as one parameter (`bulk.keys_in`); psycopg
        # builds an array parameter in Python, value by value. Elsewhere IN lists of
        # LOOKUP_CHUNK.
        self.chunk = None if connection.vendor == "postgresql" else LOOKUP_CHUNK

    def statements(self, keys):
        """(SQL, parameters) of the look-up of `keys`."""
        chunk = self.chunk or len(keys) or 1
        for start in range(0, len(keys), chunk):
            where, params = bulk.keys_in(self.key_column, keys[start : start + chunk])
            yield self.sql + where, params

    def owners(self, keys):
        """{e-mail key: its pending prospect (`LookedUp`)}: the e-mail's newest active
        prospect by `seq`, where it is pending. (An older prospect pending again, a malformed
        item read at last, does not take the records of a newer one that is not.)"""
        found, newest = {}, {}
        keys = sorted(keys)
        visit_text = self.visit_text
        with connection.cursor() as cursor:
            for statement, params in self.statements(keys):
                cursor.execute(statement, params)
                for row in map(_Stored._make, cursor.fetchall()):
                    key = row.email_key
                    if key and row.lifecycle == Lifecycle.ACTIVE:
                        newest[key] = max(newest.get(key, -1), row.seq)
                    if not (
                        key
                        and row.lifecycle == Lifecycle.ACTIVE
                        and row.sync_status == SyncStatus.NOT_PROCESSED
                        and row.pending
                        and row.attempts < self.max_attempts
                    ):
                        continue
                    kept = found.get(key)
                    if kept is None or kept.seq <= row.seq:
                        found[key] = row
        return {
            key: LookedUp(
                row.pk,
                row.backend_id,
                row.seq,
                key,
                self.tags_text(row.tags),
                _json(row.scores),
                row.temperature,
                row.last_visit if visit_text is None else visit_text(row.last_visit),
                row.favorite,
            )
            for key, row in found.items()
            if row.seq >= newest[key]
        }

    def tags_text(self, value):
        text = self.tags.get(value) if isinstance(value, str) else None
        if text is None:
            text = join_tags(self.tags_by_id.get(t) for t in _json(value))
            if isinstance(value, str):
                if len(self.tags) >= 4096:  # bounded memory
                    self.tags.clear()
                self.tags[value] = text
        return text


def _json(value):
    return loads(value) if isinstance(value, str | bytes) else value


def _sf_text(value):
    """`sf_datetime` of a last visit as the look-up read it. SQLite's text of an aware value
    is its naive UTC time, `YYYY-MM-DD HH:MM:SS[.ffffff]` (Django's adapter): rewritten as
    Salesforce takes it without a datetime in between (milliseconds truncated, as
    `isoformat` does). Anything else goes through `sf_datetime`."""
    if isinstance(value, str) and value[10:11] == " " and value[19:20] in ("", "."):
        if len(value) == 19:
            return f"{value[:10]}T{value[11:19]}.000+00:00"
        if len(value) == 26:
            return f"{value[:10]}T{value[11:19]}.{value[20:23]}+00:00"
    return sf_datetime(_aware(value))


def _aware(value):
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
