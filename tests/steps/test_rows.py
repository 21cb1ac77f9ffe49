"""How `bulk.insert` / `bulk.update_by_key` spell values for the database when they skip
Django's field machinery (syncapp/bulk.py): exactly as Django would store them."""

import datetime as dt
import json

import pytest
from django.db import connection

from syncapp import bulk
from syncapp.bulk import _json_text, insert, insert_columns, update_by_key
from syncapp.engine.steps.matching.writes import insert_hits
from syncapp.models import MatchScanHit, Prospect, RecordSnapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    [
        [],
        {},
        ["tag_a"],
        ["a", 'quote " backslash \\ accent é'],
        {"engagement": 42, "fit": -7},
        {"big": 10**30},
        # Not the shortcut's: json.dumps spells them.
        [1, "a"],
        [True],
        ["x", None],
        [[]],
        [{"a": 1}],
        {"a": True},
        {"a": 1.5},
        {"a": None},
        {"a": [1]},
        {1: 2},
        "text",
        5,
        2.5,
        True,
    ],
)
def test_json_text_is_json_dumps(value):
    assert _json_text(value) == json.dumps(value)


def test_json_text_of_none_is_sql_null():
    assert _json_text(None) is None


def test_rows_read_back_as_django_writes_them():
    fetched = dt.datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=dt.UTC)
    visit = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    common = {"lifecycle": "Active", "fetched_at": fetched}
    insert(
        Prospect,
        [
            {**common, "backend_id": "p1", "tags": ["t1", "t2"], "scores": {"e": 3},
             "last_visit": visit},
            {**common, "backend_id": "p2", "tags": [], "scores": {"e": 1.5, "f": 2},
             "last_visit": None},
        ],
    )  # fmt: skip
    Prospect.objects.create(backend_id="p3", fetched_at=fetched, last_visit=visit)
    p1, p2, p3 = Prospect.objects.order_by("backend_id")
    assert (p1.tags, p1.scores, p1.last_visit, p1.fetched_at) == (
        ["t1", "t2"],
        {"e": 3},
        visit,
        fetched,
    )
    assert (p2.tags, p2.scores, p2.last_visit, p2.fetched_at) == (
        [],
        {"e": 1.5, "f": 2},
        None,
        fetched,
    )
    # The same text in the table as Django's own save wrote.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_id, fetched_at, last_visit FROM syncapp_prospect ORDER BY backend_id"
        )
        rows = cursor.fetchall()
    assert rows[0][1:] == rows[2][1:]


def test_rows_that_differ_in_fields_and_defaults_no_row_holds():
    fetched = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    same = {"fetched_at": fetched, "lead_sync_attempts": 3}
    insert(
        Prospect,
        [
            {"backend_id": "p1", "lifecycle": "Active", "tags": ["t"], "last_error": "bad",
             **same},
            {"backend_id": "p2", "lifecycle": "Merged", **same},  # fewer fields: the rest default
        ],
    )  # fmt: skip
    p1, p2 = Prospect.objects.order_by("backend_id")
    assert (p1.tags, p1.last_error, p1.lifecycle) == (["t"], "bad", "Active")
    assert (p2.tags, p2.last_error, p2.lifecycle) == ([], "", "Merged")
    for p in (p1, p2):
        assert (p.fetched_at, p.lead_sync_attempts, p.matched_lead_ids) == (fetched, 3, [])
        assert p.scores == {} and p.sync_status == "Not Processed"

    # An upsert overwrites the fields named, keeps the others.
    insert(
        Prospect,
        [{"backend_id": "p1", "lifecycle": "Active", "tags": ["u"], "lead_sync_attempts": 0}],
        unique=["backend_id"],
        update=["tags", "lead_sync_attempts"],
    )
    p1.refresh_from_db()
    assert (p1.tags, p1.lead_sync_attempts, p1.last_error) == (["u"], 0, "bad")
    assert Prospect.objects.count() == 2


# The many-rows paths: executemany on SQLite, statements of up to `PG_ROWS` rows each on
# PostgreSQL (syncapp/bulk.py `_execute_rows`). The same outcome on both, whatever the cut.


@pytest.fixture
def small_statements(monkeypatch):
    """Statements of 3 rows on PostgreSQL: 7 rows make two full ones and a short one."""
    monkeypatch.setattr(bulk, "PG_ROWS", 3)


def test_upsert_of_many_rows_with_a_key_twice_keeps_the_last(small_statements):
    insert(Prospect, [{"backend_id": "p0", "lifecycle": "Active", "first_name": "old"}])
    rows = [{"backend_id": f"p{i}", "lifecycle": "Active", "first_name": f"n{i}"} for i in range(7)]
    rows.insert(2, {"backend_id": "p5", "lifecycle": "Active", "first_name": "first"})
    insert(Prospect, rows, unique=["backend_id"], update=["first_name"])
    names = dict(Prospect.objects.values_list("backend_id", "first_name"))
    assert names == {f"p{i}": f"n{i}" for i in range(7)}


def test_insert_ignoring_conflicts_keeps_the_first_and_what_was_there(small_statements):
    names = ["salesforce_id", "object", *RecordSnapshot.SF_FIELDS]
    blank = [False, "", "", "", ""]  # favorite, first and last name, owner, prospect id

    def row(rid, email):
        return [rid, "Contact", email, *blank]

    insert_columns(RecordSnapshot, names, [row("003A", "kept@x.org")])
    rows = [row(f"003{c}", f"{c}@x.org") for c in "ABCDEFG"] + [row("003C", "second@x.org")]
    insert_columns(RecordSnapshot, names, rows, unique=["salesforce_id"])
    emails = dict(RecordSnapshot.objects.values_list("salesforce_id", "email"))
    assert emails == {"003A": "kept@x.org", **{f"003{c}": f"{c}@x.org" for c in "BCDEFG"}}


def test_update_by_key_over_many_rows_with_nulls_json_and_booleans(small_statements):
    insert(
        Prospect,
        [
            {"backend_id": f"p{i}", "lifecycle": "Active", "lead_pending": True,
             "last_visit": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
            for i in range(8)
        ],
    )  # fmt: skip
    pks = list(Prospect.objects.order_by("backend_id").values_list("pk", flat=True))
    visit = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    # last_visit: NULL in every row of the first two statements, set in the third.
    rows = [[[f"00Q{i}"], False, None if i < 6 else visit, i, pk] for i, pk in enumerate(pks[:7])]
    update_by_key(
        Prospect,
        ["matched_lead_ids", "lead_pending", "last_visit", "lead_sync_attempts"],
        "id",
        rows,
    )
    got = {
        p.backend_id: (p.matched_lead_ids, p.lead_pending, p.last_visit, p.lead_sync_attempts)
        for p in Prospect.objects.all()
    }
    for i in range(7):
        assert got[f"p{i}"] == ([f"00Q{i}"], False, None if i < 6 else visit, i)
    # The row not named is untouched.
    assert got["p7"] == ([], True, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 0)


def test_update_by_primary_key_over_many_rows(small_statements):
    insert(Prospect, [{"backend_id": f"p{i}", "lifecycle": "Active"} for i in range(7)])
    pks = Prospect.objects.order_by("backend_id").values_list("pk", flat=True)
    rows = [[f"e{i}" if i % 2 else "", ["003X"] * i, pk] for i, pk in enumerate(pks)]
    update_by_key(Prospect, ["last_error", "matched_contact_ids"], "id", rows)
    for i, p in enumerate(Prospect.objects.order_by("backend_id")):
        assert (p.last_error, p.matched_contact_ids) == (f"e{i}" if i % 2 else "", ["003X"] * i)


def test_hits_of_many_rows(small_statements):
    hits = [("Lead", i, f"00Q{i}", "" if i % 3 else "bad", bool(i % 3 == 0)) for i in range(7)]
    insert_hits(hits)
    assert sorted(
        MatchScanHit.objects.values_list("object", "prospect_pk", "record_id", "error", "attempt")
    ) == sorted(hits)


def test_awkward_text_and_json_survive_the_many_rows_paths(small_statements):
    awkward = [
        'quote " and \\\\ backslash',
        "comma, {braces} and 'apostrophe'",
        "NULL",
        "",
        "accent é, emoji \U0001f600",
        "  spaces  ",
        "new\nline\ttab",
    ]
    insert(
        Prospect,
        [
            {"backend_id": f"p{i}", "lifecycle": "Active", "first_name": text,
             "tags": [text], "scores": {text or "k": i}}
            for i, text in enumerate(awkward)
        ],
    )  # fmt: skip
    pks = dict(Prospect.objects.values_list("backend_id", "pk"))
    update_by_key(
        Prospect,
        ["last_name", "matched_lead_ids"],
        "id",
        [[awkward[-1 - i], [text], pks[f"p{i}"]] for i, text in enumerate(awkward)],
    )
    for i, text in enumerate(awkward):
        p = Prospect.objects.get(backend_id=f"p{i}")
        assert (p.first_name, p.tags, p.scores) == (text, [text], {text or "k": i})
        assert (p.last_name, p.matched_lead_ids) == (awkward[-1 - i], [text])


def test_update_by_key_with_a_key_twice_keeps_the_last(small_statements):
    insert(Prospect, [{"backend_id": f"p{i}", "lifecycle": "Active"} for i in range(4)])
    pks = dict(Prospect.objects.values_list("backend_id", "pk"))
    rows = [[f"e{i}", pks[f"p{i}"]] for i in (0, 2, 1, 3)]
    rows.insert(1, ["first of two", pks["p2"]])  # in the first statement with the second
    update_by_key(Prospect, ["last_error"], "id", rows)
    assert dict(Prospect.objects.values_list("backend_id", "last_error")) == {
        f"p{i}": f"e{i}" for i in range(4)
    }


def test_json_scalars_big_numbers_and_date_times_survive_the_many_rows_paths(small_statements):
    """PostgreSQL takes a statement's rows as one JSON parameter (`_pg_rows`): a JSON column's
    value that is itself a string "null" stays that string (not SQL NULL, not JSON null);
    a 62-bit integer, a date-time without microseconds or in another zone come back as they
    went."""
    zone = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
    values = [
        ("null", 2**62, dt.datetime(2026, 11, 28, 5, 0, tzinfo=dt.UTC)),
        ("text", 0, dt.datetime(2026, 11, 28, 5, 0, 0, 1, tzinfo=zone)),
        (["x", {"é": None}], 7, None),
        ({"a": [1.25, -3, True]}, 1, dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)),
    ]
    insert(
        Prospect,
        [
            {"backend_id": f"p{i}", "lifecycle": "Active", "tags": tags, "seq": seq,
             "last_visit": visit}
            for i, (tags, seq, visit) in enumerate(values)
        ],
    )  # fmt: skip
    got = {p.backend_id: (p.tags, p.seq, p.last_visit) for p in Prospect.objects.all()}
    assert got == {f"p{i}": v for i, v in enumerate(values)}
    pks = dict(Prospect.objects.values_list("backend_id", "pk"))
    update_by_key(
        Prospect,
        ["scores", "matched_lead_ids"],
        "id",
        [[tags, [str(seq)], pks[f"p{i}"]] for i, (tags, seq, _) in enumerate(values)],
    )
    got = {p.backend_id: (p.scores, p.matched_lead_ids) for p in Prospect.objects.all()}
    assert got == {f"p{i}": (tags, [str(seq)]) for i, (tags, seq, _) in enumerate(values)}
