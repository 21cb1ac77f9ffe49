"""Prospect's queryset: the pending prospects of a Match step."""

import itertools

import pytest

from syncapp.models import Lifecycle, Prospect, SyncStatus

pytestmark = pytest.mark.django_db


def test_email_claims_later_answers_what_pending_for_selects():
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
                seq=i,
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
            claims = Prospect.objects.email_claims(side, 3, keys, after=after)
            assert claims.later == expected
    assert Prospect.objects.email_claims("lead", 3, keys).later == {"a@x.com", "b@x.com"}


def test_email_claims_newest_is_the_newest_active_prospect_pending_or_not():
    Prospect.objects.bulk_create(
        [
            Prospect(backend_id="old", seq=5, email_key="a@x.com", lifecycle=Lifecycle.ACTIVE,
                     lead_pending=True),
            Prospect(backend_id="new", seq=9, email_key="a@x.com", lifecycle=Lifecycle.ACTIVE,
                     sync_status=SyncStatus.PROCESSED),
            Prospect(backend_id="gone", seq=12, email_key="a@x.com",
                     lifecycle=Lifecycle.DELETED),
            Prospect(backend_id="b", seq=3, email_key="b@x.com", lifecycle=Lifecycle.MERGED),
        ]
    )  # fmt: skip
    claims = Prospect.objects.email_claims("lead", 3, {"a@x.com", "b@x.com", "c@x.com"})
    assert claims.newest == {"a@x.com": 9}


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
