"""Prospect's queryset: the pending prospects of a Match step."""

import itertools

import pytest

from syncapp.models import Lifecycle, Prospect, SyncStatus

pytestmark = pytest.mark.django_db


def test_pending_emails_answers_what_pending_for_selects():
    # Every combination of the conditions pending_for checks, over a few shared e-mails.
    combos = itertools.product(
        ["a@x.com", "b@x.com", ""],
        Lifecycle.values,
        SyncStatus.values,
        [True, False],
        [0, 2, 3],
    )
    Prospect.objects.bulk_create(
        [
            Prospect(
                backend_id=f"p{i}",
                email_key=key,
                lifecycle=lifecycle,
                sync_status=status,
                lead_pending=pending,
                lead_sync_attempts=attempts,
                contact_pending=not pending,
            )
            for i, (key, lifecycle, status, pending, attempts) in enumerate(combos)
        ]
    )
    keys = {"a@x.com", "b@x.com", "", "c@x.com"}
    for side in ("lead", "contact"):
        for after in (0, 40, 150):
            expected = set(
                Prospect.objects.pending_for(side, 3)
                .filter(email_key__in=keys, pk__gt=after)
                .values_list("email_key", flat=True)
            )
            assert Prospect.objects.pending_emails(side, 3, keys, after=after) == expected
    assert Prospect.objects.pending_emails("lead", 3, keys) == {"a@x.com", "b@x.com"}


def test_a_snapshot_row_follows_the_snapshot_fields_order():
    from syncapp.models import RecordSnapshot

    record = {
        "Id": "00Q000000000001AAA",
        "Email": "Ada@Example.com",
        "SW_Favorite__c": None,
        "FirstName": "Ada",
        "LastName": None,
        "OwnerId": "005000000000001AAA",
        "SW_Prospect_Id__c": "p_ada",
    }
    # `row_of` spells its fields out (the Match steps' hot path): it must say what the
    # generic reading of SF_FIELDS says, in that order.
    generic = [
        bool(record.get(field)) if attr == "favorite" else record.get(field) or ""
        for attr, field in RecordSnapshot.SF_FIELDS.items()
    ]
    assert RecordSnapshot.row_of(record) == generic
    assert RecordSnapshot.row_of({"Id": "x"}) == ["", False, "", "", "", ""]
