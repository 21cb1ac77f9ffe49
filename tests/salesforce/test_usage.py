"""API usage: the Sforce-Limit-Info header, our own call count, /limits and identity."""

import pytest

from syncapp.salesforce.errors import PermanentError
from tests.salesforce.fakeorg import sf_error


def test_api_usage_follows_the_limit_header(client, org):
    assert client.api_usage is None
    client.limits()
    assert client.api_usage == (1, 15000)
    client.describe("Lead")
    assert client.api_usage == (2, 15000)


def test_api_usage_is_read_from_error_answers_too(client, org):
    client.limits()
    org.used = 14999
    org.fail("GET", r"/describe", 404, sf_error("NOT_FOUND"))
    with pytest.raises(PermanentError):
        client.describe("Lead")
    assert client.api_usage == (15000, 15000)


def test_calls_counts_api_calls_not_logins(client, org):
    org.rows["Lead"] = [{"Id": str(i)} for i in range(4)]
    list(client.query("SELECT Id FROM Lead"))
    client.update("Lead", [{"Id": "1"}])
    assert client.calls == 3
    assert client.logins == 1


def test_daily_api_remaining(client, org):
    org.remaining = 321
    assert client.daily_api_remaining() == 321


def test_identity_for_the_setup_page(client, org):
    org.remaining = 14000
    assert client.identity() == {
        "org_id": "00DFAKE",
        "instance_url": org.url,
        "username": "sync@fake.org",
        "user_id": "005FAKE",
        "daily_used": 1000,
        "daily_max": 15000,
    }


def test_versions_when_the_org_does_not_say(client, org):
    client.identity()
    assert client.versions() is None  # the fake serves no /services/data/
