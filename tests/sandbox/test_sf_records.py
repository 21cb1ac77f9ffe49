"""sObject create, read, update, delete, describe and limits, through simple-salesforce."""

import pytest
from simple_salesforce import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.models import SfLead


def test_create_get_update_delete(sf):
    created = sf.Lead.create({"LastName": "Lovelace", "Company": "Analytical", "Email": "ada@x.io"})
    assert created["success"] is True and created["id"].startswith("00Q")
    lead = sf.Lead.get(created["id"])
    assert lead["Email"] == "ada@x.io" and lead["SW_Favorite__c"] is False
    before = lead["SystemModstamp"]
    assert sf.Lead.update(created["id"], {"SW_Tags__c": "Demo Request;Pricing Page",
                                          "SW_Engagement_Score__c": 42}) == 204  # fmt: skip
    lead = sf.Lead.get(created["id"])
    assert lead["SW_Tags__c"] == "Demo Request;Pricing Page"
    assert lead["SW_Engagement_Score__c"] == 42.0
    assert lead["SystemModstamp"] >= before
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(created["id"])


def test_create_reports_missing_required_fields(sf):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"Email": "x@y.io"})
    [error] = exc.value.content
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["LastName", "Company"]


def test_unknown_field_and_bad_values(sf):
    lead = SfLead.objects.filter(is_converted=False).first()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead.sf_id, {"Nope__c": 1})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead.sf_id, {"SW_Last_Visit__c": "yesterday"})
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead.sf_id, {"SW_Prospect_Id__c": "p" * 41})
    assert exc.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead.sf_id, {"IsConverted": True})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_converted_leads_cannot_be_updated(sf):
    lead = SfLead.objects.filter(is_converted=True).first() or SfLead.objects.first()
    SfLead.objects.filter(pk=lead.pk).update(is_converted=True)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead.sf_id, {"SW_Favorite__c": True})
    assert exc.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_unknown_records_and_objects_are_404(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get("00Q000000000000AAA")
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.update("00Q0000000ZZZZZAAA", {"LastName": "x"})
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nothing__c.describe()
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("no/such/resource")


def test_describe_lists_the_salesworks_fields(sf):
    d = sf.Lead.describe()
    fields = {f["name"]: f for f in d["fields"]}
    assert d["keyPrefix"] == "00Q"
    assert fields["SW_Prospect_Id__c"]["externalId"] is True
    assert fields["SW_Engagement_Score__c"]["type"] == "double"
    assert fields["IsConverted"]["updateable"] is False
    assert sf.SW_Activity__c.describe()["keyPrefix"] == "a0S"
    names = {s["name"] for s in sf.describe()["sobjects"]}
    assert names >= {"Lead", "Contact", "Account", "Opportunity", "SW_Activity__c", "User"}


def test_limits(sf, faults):
    faults(daily_api_limit=500)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 500
    assert limits["DailyApiRequests"]["Remaining"] == 500 - sf.api_usage["api-usage"].used


def test_malformed_json_is_400(sf):
    r = sf.session.post(sf.base_url + "sobjects/Lead/", data="{not json", headers=sf.headers)
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_versions_and_resources(sf, sandbox_url):
    import requests

    versions = requests.get(f"{sandbox_url}/services/data/", timeout=10).json()
    assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in versions
    resources = sf.restful("")
    assert resources["query"] == "/services/data/v59.0/query"
