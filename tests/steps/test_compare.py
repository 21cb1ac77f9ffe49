"""The value comparison the Match and Clean steps write by (`same`, `changes`): meanings, not
spellings, as Salesforce answers them."""

import datetime as dt

import pytest

from syncapp.engine.steps.common import changes, same


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        # An empty field holds nothing, false, or empty text; nothing else.
        (None, None, True),
        (None, "", True),
        (None, False, True),
        (None, 0, False),
        (None, 0.0, False),
        (None, "Hot", False),
        (None, True, False),
        ("", None, True),
        (False, None, True),
        # Booleans by truth, numbers by value (Salesforce answers floats).
        (True, True, True),
        (False, True, False),
        (1, True, True),
        (42.0, 42, True),
        (42.5, 42, False),
        ("42", 42, True),
        ("x", 42, False),
        (True, 1, False),
        ("", 0, False),
        # Date-times by instant, whatever the spelling; other text exactly.
        ("2026-11-20T10:00:00.000+0000", "2026-11-20T10:00:00.000+00:00", True),
        ("2026-11-20T11:00:00.000+0100", "2026-11-20T10:00:00+00:00", True),
        ("2026-11-20T10:00:01.000+0000", "2026-11-20T10:00:00.000+00:00", False),
        ("Trial;Pricing Page", "Trial;Pricing Page", True),
        ("Trial", "trial", False),
        ("Hot", "Warm", False),
    ],
)
def test_same_compares_meanings(current, desired, expected):
    assert same(current, desired) is expected


def test_changes_keeps_only_the_fields_that_differ():
    record = {
        "Id": "00Q1",
        "SW_Prospect_Id__c": "p_1",
        "SW_Tags__c": None,
        "SW_Last_Visit__c": "2026-11-20T10:00:00.000+0000",
        "SW_Favorite__c": False,
        "SW_Fit_Score__c": 7.0,
    }
    desired = {
        "SW_Prospect_Id__c": "p_1",
        "SW_Tags__c": "Blog",
        "SW_Last_Visit__c": "2026-11-20T10:00:00.000+00:00",
        "SW_Favorite__c": True,
        "SW_Fit_Score__c": 7,
        "SW_Temperature__c": None,
    }
    assert changes(record, desired) == {"SW_Tags__c": "Blog", "SW_Favorite__c": True}


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-20 10:00:00",
        "2026-11-20 10:00:00.123456",
        "2026-11-20 10:00:00.999999",
        "2026-11-20 10:00:00+01:00",
        "2026-11-20T10:00:00+00:00",
        None,
        "",
    ],
)
def test_scan_mode_reads_a_stored_last_visit_as_salesforce_takes_it(stored):
    """Scan mode rewrites SQLite's text of a date-time directly: the same text as going
    through a datetime (`sf_datetime`)."""
    from syncapp.engine.steps.common import parse_datetime, sf_datetime
    from syncapp.engine.steps.matching.lookup import _sf_text

    expected = sf_datetime(parse_datetime(stored.replace(" ", "T", 1) if stored else stored))
    assert _sf_text(stored) == expected


@pytest.mark.django_db
def test_the_look_up_reads_a_last_visit_as_salesforce_takes_it():
    """Scan mode's look-up reads the stored last visit as text (SQLite: rewritten; PostgreSQL:
    spelled by to_char): the same text as `sf_datetime` of the datetime, milliseconds
    truncated, in UTC."""
    from syncapp.bulk import insert
    from syncapp.engine.steps.common import sf_datetime
    from syncapp.engine.steps.matching.lookup import ProspectLookup
    from syncapp.models import Prospect

    zone = dt.timezone(dt.timedelta(hours=5, minutes=45))
    visits = [
        dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 20, 10, 0, 0, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 20, 10, 0, 0, 1500, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 3, 0, 0, 123456, tzinfo=zone),  # the day before, in UTC
        dt.datetime(999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        None,
    ]
    insert(
        Prospect,
        [
            {"backend_id": f"p{i}", "email_key": f"p{i}@x.org", "lifecycle": "Active",
             "last_visit": visit}
            for i, visit in enumerate(visits)
        ],
    )  # fmt: skip
    owners = ProspectLookup("lead", 3, {}).owners({f"p{i}@x.org" for i in range(len(visits))})
    assert {k: p.last_visit_text for k, p in owners.items()} == {
        f"p{i}@x.org": sf_datetime(visit) for i, visit in enumerate(visits)
    }
