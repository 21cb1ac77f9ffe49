"""The keys and indexes of the tables a cycle writes most (migration 0011)."""

import pytest
from django.db import IntegrityError, connection, transaction

from syncapp.engine.steps.prospects import stored_states
from syncapp.models import Activity, MatchScanHit, Prospect, RecordSnapshot

pytestmark = pytest.mark.django_db

HOT_TABLES = [m._meta.db_table for m in (Prospect, Activity, RecordSnapshot, MatchScanHit)]


def test_the_sync_keys_stay_unique():
    prospect = Prospect.objects.create(backend_id="p1", email="a@x.com", email_key="a@x.com")
    Activity.objects.create(
        backend_id="a1", prospect=prospect, type="page_visit", occurred_at="2026-11-27T10:00Z"
    )
    RecordSnapshot.objects.create(salesforce_id="00Q000000000001AAA", object="Lead")
    duplicates = [
        lambda: Prospect.objects.create(backend_id="p1"),
        lambda: Activity.objects.create(
            backend_id="a1", prospect=prospect, type="page_visit", occurred_at="2026-11-27T10:00Z"
        ),
        lambda: RecordSnapshot.objects.create(salesforce_id="00Q000000000001AAA", object="Lead"),
    ]
    for create in duplicates:
        with pytest.raises(IntegrityError), transaction.atomic():
            create()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_no_pattern_ops_companion_indexes_on_postgresql():
    # `unique=True` and `db_index=True` on a CharField add a second, varchar_pattern_ops index
    # on PostgreSQL (for LIKE 'prefix%', which nothing here asks): every upsert paid for it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexdef LIKE '%%pattern_ops%%'",
            [HOT_TABLES],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s", [Prospect._meta.db_table]
        )
        indexes = " ".join(row[0] for row in cursor.fetchall())
    # The look-ups keep theirs: the id's unique key and the e-mail's index.
    assert "UNIQUE INDEX prospect_backend_id_unique" in indexes
    assert "INDEX prospect_email_key ON" in indexes


def test_stored_states_reads_the_stored_among_a_page_of_ids():
    Prospect.objects.create(backend_id="p1", email_key="a@x.com", lead_clean_pending=True)
    Prospect.objects.create(backend_id="p2", email_key="", contact_clean_pending=True)
    ids = ["p1", "p2", "p3", "it's"] + [f"q{i}" for i in range(1000)]
    assert stored_states(ids) == {
        "p1": ("a@x.com", True, False),
        "p2": ("", False, True),
    }
    assert stored_states([]) == {}
