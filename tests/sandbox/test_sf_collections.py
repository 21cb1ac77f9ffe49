"""sObject Collections: create, update, upsert by external id, allOrNone, the 200 limit."""

import pytest
from simple_salesforce import SalesforceMalformedRequest

from sandbox.models import SfActivity, SfContact, SfLead


def patch(sf, records, all_or_none=False, path="composite/sobjects"):
    return sf.restful(path, method="PATCH", json={"allOrNone": all_or_none, "records": records})


def lead_updates(leads, **fields):
    return [{"attributes": {"type": "Lead"}, "id": lead.sf_id, **fields} for lead in leads]


def test_update_with_mixed_per_record_success(sf, faults):
    leads = list(SfLead.objects.filter(is_converted=False).order_by("pk")[:4])
    SfLead.objects.filter(pk=leads[1].pk).update(email="blocked@blocked.example")
    faults(validation_rules=[{"object": "Lead", "emailPattern": "*@blocked.example",
                              "message": "No blocked domains"}])  # fmt: skip
    records = lead_updates(leads, SW_Tags__c="Pricing Page", SW_Favorite__c=True)
    records.append({"attributes": {"type": "Lead"}, "id": "00Qbroken"})
    results = patch(sf, records)
    assert [r["success"] for r in results] == [True, False, True, True, False]
    assert results[1]["errors"] == [
        {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "No blocked domains",
         "fields": []}
    ]  # fmt: skip
    assert results[4]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert results[0]["id"] == leads[0].sf_id
    stored = {lead.pk: lead for lead in SfLead.objects.filter(pk__in=[x.pk for x in leads])}
    assert stored[leads[0].pk].sw_tags == "Pricing Page"
    assert stored[leads[0].pk].system_modstamp > leads[0].system_modstamp
    assert stored[leads[1].pk].sw_tags is None


def test_all_or_none_rolls_everything_back(sf, faults):
    leads = list(SfLead.objects.filter(is_converted=False).order_by("pk")[:3])
    faults(validation_rules=[{"emailPattern": leads[2].email}])
    results = patch(sf, lead_updates(leads, SW_Tags__c="X"), all_or_none=True)
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[2]["errors"][0]["statusCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert not SfLead.objects.filter(sw_tags="X").exists()


def test_create_collection_with_mixed_types(sf):
    contact = SfContact.objects.first()
    records = [
        {"attributes": {"type": "Account"}, "Name": "Globex"},
        {"attributes": {"type": "SW_Activity__c"}, "SW_Activity_Id__c": "act_x1",
         "Contact__c": contact.sf_id, "Type__c": "page_visit",
         "Occurred_At__c": "2026-11-26T09:30:00+00:00"},
        {"attributes": {"type": "Account"}},
    ]  # fmt: skip
    results = sf.restful("composite/sobjects", method="POST",
                         json={"allOrNone": False, "records": records})  # fmt: skip
    assert results[0]["success"] and results[0]["id"].startswith("001")
    assert results[1]["success"] and results[1]["id"].startswith("a0S")
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert SfActivity.objects.get(sw_activity_id="act_x1").contact == contact.sf_id


def test_upsert_by_external_id(sf):
    path = "composite/sobjects/SW_Activity__c/SW_Activity_Id__c"
    rec = {"attributes": {"type": "SW_Activity__c"}, "SW_Activity_Id__c": "act_1",
           "Type__c": "page_visit"}  # fmt: skip
    first = patch(sf, [rec, {**rec, "SW_Activity_Id__c": "act_2"}], path=path)
    assert [r["created"] for r in first] == [True, True]
    again = patch(sf, [{**rec, "Type__c": "form_submit"}, {**rec}], path=path)
    assert again[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    assert again[1]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert SfActivity.objects.get(sw_activity_id="act_1").type == "form_submit"


def test_a_full_call_of_creates_gives_each_record_its_own_id(sf):
    # Many rows a statement (the sandbox's own INSERT ... RETURNING): each answer's id must
    # name the record that was sent in its place, defaults filled as a model would.
    path = "composite/sobjects/Lead/SW_Prospect_Id__c"
    records = [
        {"attributes": {"type": "Lead"}, "SW_Prospect_Id__c": f"p_new_{i}", "LastName": f"N{i}",
         "Company": "C", "Email": f"n{i}@example.com", "SW_Favorite__c": None,
         "SW_Last_Visit__c": "2026-11-26T09:30:00.123+00:00" if i % 2 else None}
        for i in range(200)
    ]  # fmt: skip
    results = patch(sf, records, path=path)
    assert all(r["success"] and r["created"] for r in results)
    created = SfLead.objects.filter(sw_prospect_id__startswith="p_new_")
    by_id = {lead.sf_id: lead for lead in created}
    assert len(by_id) == 200
    for i, result in enumerate(results):
        lead = by_id[result["id"]]
        assert (lead.sw_prospect_id, lead.last_name, lead.email) == (
            f"p_new_{i}",
            f"N{i}",
            f"n{i}@example.com",
        )
        assert lead.email_lower == f"n{i}@example.com"
        assert (lead.status, lead.is_converted, lead.sw_favorite) == (
            "Open - Not Contacted",
            False,
            False,
        )
        assert (lead.sw_last_visit is not None) == bool(i % 2)
        assert lead.created_date == lead.system_modstamp


def test_upsert_finds_duplicates_in_the_org(sf):
    leads = list(SfLead.objects.filter(is_converted=False)[:2])
    SfLead.objects.filter(pk__in=[x.pk for x in leads]).update(sw_prospect_id="p_dup")
    results = patch(
        sf,
        [{"attributes": {"type": "Lead"}, "SW_Prospect_Id__c": "p_dup", "SW_Favorite__c": True}],
        path="composite/sobjects/Lead/SW_Prospect_Id__c",
    )
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"


def test_more_than_200_records_are_refused(sf):
    leads = list(SfLead.objects.all()[:1]) * 201
    with pytest.raises(SalesforceMalformedRequest) as exc:
        patch(sf, lead_updates(leads, SW_Favorite__c=True))
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


BAD_COLLECTION_BODIES_ARE_400_CASES = [
    ("{oops", "JSON_PARSER_ERROR"),
    ('{"records": "no"}', "JSON_PARSER_ERROR"),
    ('{"records": [{"id": "00Q000000000001AAA"}]}', "INVALID_TYPE"),
    ('{"records": [{"attributes": {"type": "Nope"}}]}', "INVALID_TYPE"),
    ('{"allOrNone": "yes", "records": []}', "JSON_PARSER_ERROR"),
    ('{"records": [{"attributes": {"type": "Lead"}, "Bogus": 1}]}', "INVALID_FIELD"),
]


def test_bad_collection_bodies_are_400(sf):
    # One test over all cases: each live-server test costs a database flush.
    for body, code in BAD_COLLECTION_BODIES_ARE_400_CASES:
        r = sf.session.patch(sf.base_url + "composite/sobjects", data=body, headers=sf.headers)
        assert r.status_code == 400
        assert r.json()[0]["errorCode"] == code


def test_collection_delete(sf):
    contacts = list(SfContact.objects.all()[:2])
    ids = ",".join(c.sf_id for c in contacts)
    results = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids})
    assert [r["success"] for r in results] == [True, True]
    assert SfContact.objects.filter(is_deleted=True).count() == 2


def test_field_values_are_checked_per_record_whatever_the_spelling(sf):
    """The write path converts values per field; what Salesforce does with each kind of value
    and spelling must hold for every record of a collection."""
    leads = list(SfLead.objects.filter(is_converted=False).order_by("pk")[:6])
    records = [
        {"attributes": {"type": "Lead"}, "ID": leads[0].sf_id, "email": "Mixed@Case.Example",
         "sw_engagement_score__c": "12.5", "SW_Tags__c": ""},
        {"attributes": {"type": "Lead"}, "id": leads[1].sf_id, "SW_Temperature__c": "x" * 300},
        {"attributes": {"type": "Lead"}, "id": leads[2].sf_id, "Email": "not-an-address"},
        {"attributes": {"type": "Lead"}, "id": leads[3].sf_id, "IsConverted": True},
        {"attributes": {"type": "Lead"}, "id": leads[4].sf_id, "SW_Favorite__c": False,
         "SW_Fit_Score__c": 3},
    ]  # fmt: skip
    results = patch(sf, records)
    assert [r["success"] for r in results] == [True, False, False, False, True]
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert results[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert results[3]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    first = SfLead.objects.get(pk=leads[0].pk)
    assert (first.email, first.email_lower) == ("Mixed@Case.Example", "mixed@case.example")
    assert first.sw_engagement_score == 12.5 and first.sw_tags is None
    fifth = SfLead.objects.get(pk=leads[4].pk)
    assert fifth.sw_favorite is False and fifth.sw_fit_score == 3.0
    assert SfLead.objects.get(pk=leads[1].pk).sw_temperature == leads[1].sw_temperature

    for bad in ({"SW_Favorite__c": "yes"}, {"SW_Fit_Score__c": [1]}, {"Nope__c": 1}):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            patch(sf, lead_updates(leads[5:], **bad))
        code = exc.value.content[0]["errorCode"]
        assert code == ("INVALID_FIELD" if "Nope__c" in bad else "JSON_PARSER_ERROR")
