"""An expired session (401 INVALID_SESSION_ID) means: log in again once, then retry."""

import pytest

from syncapp.salesforce.errors import PermanentError
from tests.salesforce.fakeorg import SESSION_EXPIRED


def _expire_after_first_login(client, org):
    client.limits()  # logs in
    org.expire_sessions()
    assert len(org.logins) == 1


def test_query_logs_in_again(client, org):
    org.rows["Lead"] = [{"Id": "00Q1"}]
    _expire_after_first_login(client, org)
    assert list(client.query("SELECT Id FROM Lead")) == [{"Id": "00Q1"}]
    assert len(org.logins) == 2
    assert client.logins == 2
    assert client.transient == {"INVALID_SESSION_ID": 1}


def test_query_more_logs_in_again_mid_paging(client, org):
    org.rows["Lead"] = [{"Id": f"00Q{i}"} for i in range(7)]
    records = client.query("SELECT Id FROM Lead")
    first = [next(records) for _ in range(3)]  # the first page
    org.expire_sessions()
    rest = list(records)
    assert [r["Id"] for r in first + rest] == [f"00Q{i}" for i in range(7)]
    assert len(org.logins) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.update("Lead", [{"Id": "00Q1", "Email": "a@b.c"}]),
        lambda c: c.create("Lead", [{"LastName": "A"}]),
        lambda c: c.upsert("Lead", "SW_Prospect_Id__c", [{"SW_Prospect_Id__c": "p1"}]),
        lambda c: c.delete(["00Q1"]),
        lambda c: c.describe("Lead"),
        lambda c: c.count("SELECT COUNT() FROM Lead"),
        lambda c: c.limits(),
    ],
    ids=["update", "create", "upsert", "delete", "describe", "count", "limits"],
)
def test_every_kind_of_call_logs_in_again(client, org, call):
    _expire_after_first_login(client, org)
    call(client)
    assert len(org.logins) == 2


def test_a_write_after_relogin_is_sent_once_more_only(client, org):
    _expire_after_first_login(client, org)
    results = client.update("Lead", [{"Id": "00Q1", "Email": "a@b.c"}])
    assert [r.success for r in results] == [True]
    # One refused attempt (401) and one that went through.
    assert len(org.data_calls("PATCH", r"/composite/sobjects")) == 2


def test_only_one_relogin_per_call(client, org):
    client.limits()
    org.fail("GET", r"/limits", 401, SESSION_EXPIRED, times=5)
    with pytest.raises(PermanentError, match="INVALID_SESSION_ID"):
        client.limits()
    assert len(org.logins) == 2


def test_a_token_is_shared_by_clients_of_one_process(sf_settings, org):
    from syncapp.salesforce import get_client

    get_client().limits()
    get_client().limits()
    assert len(org.logins) == 1


def test_a_failed_relogin_is_an_authentication_error(client, org):
    client.limits()
    org.expire_sessions()
    org.password = "changed"
    with pytest.raises(PermanentError, match="invalid_grant: authentication failure"):
        client.limits()
