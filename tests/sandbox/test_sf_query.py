"""The SOQL subset and query paging, through simple-salesforce."""

import datetime as dt

import pytest
import requests
from simple_salesforce import SalesforceMalformedRequest

from sandbox import seed
from sandbox.models import SfContact, SfLead
from tests.sandbox.conftest import BASE_TIME


def ids(result):
    return [r["Id"] for r in result["records"]]


def test_field_list_and_record_shape(sf):
    r = sf.query("SELECT Id, FirstName, LastName, Email, IsConverted, SystemModstamp FROM Lead "
                 "ORDER BY Id LIMIT 2")  # fmt: skip
    assert r["done"] is True and r["totalSize"] == 2
    rec = r["records"][0]
    assert list(rec) == ["attributes", "Id", "FirstName", "LastName", "Email", "IsConverted",
                         "SystemModstamp"]  # fmt: skip
    assert rec["attributes"]["type"] == "Lead"
    assert rec["attributes"]["url"].endswith("/sobjects/Lead/" + rec["Id"])
    assert len(rec["Id"]) == 18 and rec["Id"].startswith("00Q")
    assert rec["SystemModstamp"].endswith("+0000")
    assert isinstance(rec["IsConverted"], bool)


def test_count(sf):
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 40
    assert sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = true")["totalSize"] == (
        SfLead.objects.filter(is_converted=True).count()
    )


def test_email_match_is_case_insensitive(sf):
    lead = SfLead.objects.exclude(email__isnull=True).first()
    upper = lead.email.upper()
    r = sf.query(f"SELECT Id FROM Lead WHERE Email = '{upper}'")
    assert lead.sf_id in ids(r)
    r = sf.query(f"SELECT Id FROM Lead WHERE Email IN ('{upper}', 'nobody@nowhere.example')")
    assert lead.sf_id in ids(r)


def test_comparisons_in_like_and_or_not_null(sf):
    leads = list(SfLead.objects.order_by("pk"))
    a, b = leads[0], leads[1]
    r = sf.query(f"SELECT Id FROM Lead WHERE Id IN ('{a.sf_id}', '{b.sf_id}') ORDER BY Id DESC")
    assert ids(r) == [b.sf_id, a.sf_id]
    r = sf.query(f"SELECT Id FROM Lead WHERE Id = '{a.sf_id}' OR Id = '{b.sf_id}'")
    assert sorted(ids(r)) == sorted([a.sf_id, b.sf_id])
    r = sf.query(f"SELECT Id FROM Lead WHERE NOT (Id = '{a.sf_id}')")
    assert r["totalSize"] == 39
    r = sf.query(f"SELECT Id FROM Lead WHERE Id NOT IN ('{a.sf_id}')")
    assert r["totalSize"] == 39
    r = sf.query("SELECT Id FROM Lead WHERE SW_Prospect_Id__c = null AND IsConverted = false")
    assert r["totalSize"] == SfLead.objects.filter(is_converted=False).count()
    r = sf.query("SELECT Id FROM Lead WHERE Email LIKE '%@UNMATCHED.example'")
    assert r["totalSize"] == SfLead.objects.filter(email__endswith="@unmatched.example").count()
    assert r["totalSize"] > 0
    r = sf.query("SELECT Id FROM Lead WHERE Email != null")
    assert r["totalSize"] == 40


def test_datetime_literals_order_and_limit(sf):
    SfLead.objects.filter(pk__lte=5).update(system_modstamp=BASE_TIME + dt.timedelta(days=1))
    r = sf.query("SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > "
                 "2026-11-01T12:00:00Z ORDER BY SystemModstamp DESC, Id LIMIT 3")  # fmt: skip
    assert r["totalSize"] == 3
    assert all(x["SystemModstamp"].startswith("2026-11-02T12:00:00") for x in r["records"])
    r = sf.query("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-02T12:00:00.000+0000")
    assert r["totalSize"] == 5
    r = sf.query("SELECT Id FROM Lead WHERE SystemModstamp = LAST_N_DAYS:5000")
    assert r["totalSize"] == 40
    r = sf.query("SELECT Name, CloseDate FROM Opportunity WHERE CloseDate > 2026-11-01 "
                 "ORDER BY CloseDate ASC NULLS LAST OFFSET 1")  # fmt: skip
    assert r["totalSize"] == 7


BAD_QUERIES_RAISE_MALFORMED_REQUEST_CASES = [
    ("SELECT Id FRM Lead", "MALFORMED_QUERY"),
    ("SELECT FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Email = 'unterminated", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead LIMIT -1", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE (Email = 'a'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead ; DROP TABLE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Leed", "INVALID_TYPE"),
    ("SELECT Id, Nope__c FROM Lead", "INVALID_FIELD"),
    ("SELECT Account.Name FROM Contact", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE IsConverted = 'yes'", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE Id = 'not-an-id'", "INVALID_QUERY_FILTER_OPERATOR"),
]


def test_bad_queries_raise_malformed_request(sf):
    # One test over all cases: each live-server test costs a database flush.
    for soql, code in BAD_QUERIES_RAISE_MALFORMED_REQUEST_CASES:
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.query(soql)
        assert exc.value.status == 400
        [error] = exc.value.content
        assert error["errorCode"] == code
        assert error["message"]


def test_missing_q_is_a_4xx(sf):
    r = sf.session.get(sf.base_url + "query/", headers=sf.headers)
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_paging_with_next_records_url_at_2000(sf):
    seed.seed(seed.Sizes(prospects=5, leads=4100, contacts=3, accounts=1, opportunities=0), 1,
              BASE_TIME)  # fmt: skip
    first = sf.query("SELECT Id, Email FROM Lead")
    assert first["totalSize"] == 4100
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert "/query/01g" in first["nextRecordsUrl"]
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 2000 and second["done"] is False
    everything = sf.query_all("SELECT Id FROM Lead")
    assert everything["totalSize"] == 4100
    assert len({r["Id"] for r in everything["records"]}) == 4100
    # A query's pages are a snapshot of the matching records, as in Salesforce.
    assert sf.query("SELECT Id FROM Lead LIMIT 2001")["done"] is False
    limited = sf.query_all("SELECT Id FROM Lead LIMIT 2500")
    assert len(limited["records"]) == 2500


def test_query_all_includes_deleted_records(sf):
    contact = SfContact.objects.first()
    sf.Contact.delete(contact.sf_id)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 39
    r = sf.query_all(
        "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True
    )
    assert ids(r) == [contact.sf_id]


def test_bad_locator(sf):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("01gAAAAAAAAAAAAAAA-2000")
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_every_response_carries_the_limit_header(sf, sandbox_url):
    sf.query("SELECT Id FROM Lead LIMIT 1")
    used = sf.api_usage["api-usage"].used
    assert used >= 1
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.api_usage["api-usage"].used == used + 1
    r = requests.get(f"{sandbox_url}/services/data/v59.0/limits", timeout=10)
    assert r.status_code == 401 and "Sforce-Limit-Info" in r.headers
