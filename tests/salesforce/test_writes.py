"""Writes go through sObject Collections: ≤ 200 records a call, allOrNone=false, one result
per record in input order; record-level failures are returned, lock failures re-sent."""

import pytest

from syncapp.salesforce import RecordResult


def _validation(method, obj, record):
    if "bad" in str(record.get("Email", "")):
        return {
            "success": False,
            "errors": [
                {
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Email domain not allowed",
                    "fields": ["Email"],
                }
            ],
        }
    return None


def test_updates_go_200_a_call_and_keep_the_order(client, org):
    records = [{"Id": f"00Q{i:04d}", "Email": f"u{i}@x.com"} for i in range(450)]
    results = client.update("Lead", records)
    calls = org.data_calls("PATCH", r"/composite/sobjects$")
    assert [len(c[3]["records"]) for c in calls] == [200, 200, 50]
    assert all(c[3]["allOrNone"] is False for c in calls)
    assert calls[0][3]["records"][0] == {
        "attributes": {"type": "Lead"},
        "Id": "00Q0000",
        "Email": "u0@x.com",
    }
    assert [r.id for r in results] == [r["Id"] for r in records]
    assert all(r.success for r in results)
    assert "attributes" not in records[0]  # the caller's dicts are left alone


def test_record_level_failures_are_returned_not_raised(client, org):
    org.record_outcome = _validation
    results = client.update(
        "Lead",
        [{"Id": "00Q1", "Email": "ok@x.com"}, {"Id": "00Q2", "Email": "bad@x.com"}],
    )
    assert results[0].success
    assert results[1] == RecordResult(
        id=None,
        success=False,
        errors=["Email domain not allowed (fields: Email)"],
        codes=["FIELD_CUSTOM_VALIDATION_EXCEPTION"],
    )
    assert results[1].message.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION: Email domain")


def test_records_that_hit_a_row_lock_are_sent_again_alone(client, org):
    locked_once = {"00Q2", "00Q4"}

    def lock(method, obj, record):
        if record["Id"] in locked_once:
            locked_once.discard(record["Id"])
            return {
                "success": False,
                "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain"}],
            }
        return None

    org.record_outcome = lock
    records = [{"Id": f"00Q{i}"} for i in range(6)]
    results = client.update("Lead", records)
    assert all(r.success for r in results)
    assert [r.id for r in results] == [f"00Q{i}" for i in range(6)]
    calls = org.data_calls("PATCH", r"/composite/sobjects$")
    assert [[r["Id"] for r in c[3]["records"]] for c in calls] == [
        [f"00Q{i}" for i in range(6)],
        ["00Q2", "00Q4"],
    ]
    assert client.transient == {"UNABLE_TO_LOCK_ROW": 2}


def test_a_row_lock_that_persists_ends_as_a_record_failure(client, org, sf_settings):
    def always_locked(method, obj, record):
        if record["Id"] == "00Q1":
            return {
                "success": False,
                "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x"}],
            }
        return None

    org.record_outcome = always_locked
    results = client.update("Lead", [{"Id": "00Q0"}, {"Id": "00Q1"}])
    assert results[0].success and not results[1].success
    assert results[1].codes == ["UNABLE_TO_LOCK_ROW"]
    assert len(org.data_calls("PATCH")) == sf_settings.SALESFORCE_RETRY_ATTEMPTS


def test_create_posts_collections(client, org):
    results = client.create("SW_Activity__c", [{"Name": f"a{i}"} for i in range(201)])
    calls = org.data_calls("POST", r"/composite/sobjects$")
    assert [len(c[3]["records"]) for c in calls] == [200, 1]
    assert calls[0][3]["records"][0]["attributes"] == {"type": "SW_Activity__c"}
    assert len(results) == 201 and all(r.success and r.id for r in results)


def test_upsert_patches_by_external_id(client, org):
    results = client.upsert(
        "SW_Activity__c",
        "SW_Activity_Id__c",
        [{"SW_Activity_Id__c": "act_1", "Title__c": "Pricing"}],
    )
    [call] = org.data_calls("PATCH")
    assert call[1].endswith("/composite/sobjects/SW_Activity__c/SW_Activity_Id__c")
    assert results[0].success and results[0].created is True


def test_delete_sends_ids_in_chunks(client, org):
    ids = [f"a0X{i:05d}" for i in range(250)]
    results = client.delete(ids)
    calls = org.data_calls("DELETE")
    assert [len(c[2]["ids"].split(",")) for c in calls] == [200, 50]
    assert all(c[2]["allOrNone"] == "false" for c in calls)
    assert [r.id for r in results] == ids


def test_writing_nothing_makes_no_call(client, org):
    assert client.update("Lead", []) == []
    assert org.requests == []


def test_update_needs_ids(client):
    with pytest.raises(ValueError):
        client.update("Lead", [{"Email": "x@y.z"}])


def test_a_write_failing_part_way_reports_what_was_written(client, org):
    from syncapp.salesforce.errors import LimitExhausted
    from tests.salesforce.fakeorg import sf_error

    records = [{"Id": f"00Q{i:04d}"} for i in range(450)]
    original = org.answer

    def answer(method, path, params, body):
        # The third collection call meets the daily limit.
        if method == "PATCH" and len(org.data_calls("PATCH")) == 3:
            return 403, sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return original(method, path, params, body)

    org.answer = answer
    with pytest.raises(LimitExhausted) as info:
        client.update("Lead", records)
    assert [r.id for r in info.value.partial_results] == [r["Id"] for r in records[:400]]
