"""OAuth token endpoint, bearer checks and session refresh, through simple-salesforce."""

import pytest
import requests
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed, SalesforceExpiredSession

from tests import sandboxcontrol as sandbox_control
from tests.sandbox import sfclient


def test_password_grant_answers_like_salesforce(sandbox_url, cfg):
    answer = sfclient.token(sandbox_url, cfg)
    assert set(answer) >= {"access_token", "instance_url", "id", "token_type", "issued_at",
                           "signature"}  # fmt: skip
    assert answer["instance_url"] == sandbox_url
    assert answer["token_type"] == "Bearer"


def test_the_identity_url_answers_who_the_token_is(sandbox_url, cfg):
    """The token answer's `id` is served (the Setup page asks it on every visit; it was a 404
    and a warning in the log each time), without counting as an API call."""
    answer = sfclient.token(sandbox_url, cfg)
    used = sandbox_control.get(f"{sandbox_url}/sandbox/control/stats", timeout=10).json()
    who = requests.get(
        answer["id"], headers={"Authorization": f"Bearer {answer['access_token']}"}, timeout=10
    )
    assert who.status_code == 200
    assert who.json()["username"] == cfg.sf_username
    assert answer["id"].endswith(f"/{who.json()['organization_id']}/{who.json()['user_id']}")
    after = sandbox_control.get(f"{sandbox_url}/sandbox/control/stats", timeout=10).json()
    assert after["salesforce"]["apiUsed"] == used["salesforce"]["apiUsed"]
    refused = requests.get(answer["id"], headers={"Authorization": "Bearer nope"}, timeout=10)
    assert refused.status_code == 403


def test_client_credentials_grant(sandbox_url, cfg):
    answer = sfclient.token(sandbox_url, cfg, grant="client_credentials")
    assert answer["access_token"]


BAD_CREDENTIALS_ARE_REFUSED_CASES = [
    ({"password": "wrong"}, "invalid_grant"),
    ({"username": "nobody@example.com"}, "invalid_grant"),
    ({"client_secret": "wrong"}, "invalid_client"),
    ({"client_id": "wrong"}, "invalid_client_id"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
]


def test_bad_credentials_are_refused(sandbox_url, cfg):
    # One test over all cases: each live-server test costs a database flush.
    for change, error in BAD_CREDENTIALS_ARE_REFUSED_CASES:
        data = {
            "grant_type": "password",
            "client_id": cfg.sf_client_id,
            "client_secret": cfg.sf_client_secret,
            "username": cfg.sf_username,
            "password": cfg.sf_password,
            **change,
        }
        r = requests.post(f"{sandbox_url}/services/oauth2/token", data=data, timeout=10)
        assert r.status_code == 400
        assert r.json()["error"] == error


def test_simple_salesforce_login_flows(sandbox_url, cfg, world):
    sf = sfclient.login_client(sandbox_url, cfg)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 6
    cc = Salesforce(
        consumer_key=cfg.sf_client_id,
        consumer_secret=cfg.sf_client_secret,
        domain="swstudio-sandbox.my",
        session=sfclient.sandbox_session(sandbox_url),
    )
    assert cc.query("SELECT COUNT() FROM Account")["totalSize"] == 6
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(
            username=cfg.sf_username,
            password="wrong",
            consumer_key=cfg.sf_client_id,
            consumer_secret=cfg.sf_client_secret,
            session=sfclient.sandbox_session(sandbox_url),
        )


def test_direct_client_uses_instance_url_and_session(sandbox_url, cfg, world):
    sf = sfclient.direct_client(sandbox_url, cfg)
    assert sf.query("SELECT Id FROM User LIMIT 1")["records"][0]["Id"].startswith("005")


MISSING_OR_UNKNOWN_SESSION_IS_401_CASES = [None, "Bearer not-a-session", "Basic abc"]


def test_missing_or_unknown_session_is_401(sandbox_url, world):
    # One test over all cases: each live-server test costs a database flush.
    for header in MISSING_OR_UNKNOWN_SESSION_IS_401_CASES:
        headers = {"Authorization": header} if header else {}
        r = requests.get(
            f"{sandbox_url}/services/data/v59.0/query", params={"q": "SELECT Id FROM Lead"},
            headers=headers, timeout=10,
        )  # fmt: skip
        assert r.status_code == 401
        assert r.json() == [
            {
                "message": "Session expired or invalid",
                "errorCode": "INVALID_SESSION_ID",
                "fields": [],
            }
        ]


def test_expired_session_raises_for_a_direct_client(sandbox_url, cfg, world, faults):
    sf = sfclient.direct_client(sandbox_url, cfg)
    faults(session_expiry_calls=2)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    sf.query("SELECT Id FROM Lead LIMIT 1")
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_login_client_logs_in_again_after_expiry(sandbox_url, cfg, world, faults):
    sf = sfclient.login_client(sandbox_url, cfg)
    faults(session_expiry_calls=3)
    first_session = sf.session_id
    for _ in range(7):  # crosses the expiry twice
        assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 40
    assert sf.session_id != first_session
    stats = sandbox_control.get(f"{sandbox_url}/sandbox/control/stats", timeout=10).json()
    assert stats["counters"]["sf.fault.INVALID_SESSION_ID"] == 2
    assert stats["counters"]["sf.logins"] == 3
