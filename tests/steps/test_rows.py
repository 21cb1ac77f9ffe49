"""How `insert_rows` / `update_where` spell values for the database when they skip Django's
field machinery (steps/common.py): exactly as Django would store them."""

import datetime as dt
import json

import pytest
from django.db import connection

from syncapp.engine.steps.common import _json_text, insert_rows
from syncapp.models import Prospect

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
    insert_rows(
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


def test_constants_rows_that_differ_in_fields_and_defaults_no_row_holds():
    fetched = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    insert_rows(
        Prospect,
        [
            {"backend_id": "p1", "lifecycle": "Active", "tags": ["t"], "last_error": "bad"},
            {"backend_id": "p2", "lifecycle": "Merged"},  # fewer fields: the rest default
        ],
        constants={"fetched_at": fetched, "lead_sync_attempts": 3},
    )
    p1, p2 = Prospect.objects.order_by("backend_id")
    assert (p1.tags, p1.last_error, p1.lifecycle) == (["t"], "bad", "Active")
    assert (p2.tags, p2.last_error, p2.lifecycle) == ([], "", "Merged")
    for p in (p1, p2):
        assert (p.fetched_at, p.lead_sync_attempts, p.matched_lead_ids) == (fetched, 3, [])
        assert p.scores == {} and p.sync_status == "Not Processed"

    # An upsert with constants overwrites the fields named, keeps the others.
    insert_rows(
        Prospect,
        [{"backend_id": "p1", "lifecycle": "Active", "tags": ["u"]}],
        unique_fields=["backend_id"],
        update_fields=["tags", "lead_sync_attempts"],
        constants={"lead_sync_attempts": 0},
    )
    p1.refresh_from_db()
    assert (p1.tags, p1.lead_sync_attempts, p1.last_error) == (["u"], 0, "bad")
    assert Prospect.objects.count() == 2
