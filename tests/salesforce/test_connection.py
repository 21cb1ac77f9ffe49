"""Building the client from settings: the sandbox by default, then the three OAuth flows."""

import logging

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syncapp.salesforce import get_client
from syncapp.salesforce.config import config_from_settings
from syncapp.salesforce.errors import AuthenticationError, ConfigurationError
from tests.salesforce.fakeorg import FakeOrg


def _clear(settings):
    for name in (
        "SALESFORCE_LOGIN_URL",
        "SALESFORCE_USERNAME",
        "SALESFORCE_PASSWORD",
        "SALESFORCE_SECURITY_TOKEN",
        "SALESFORCE_CLIENT_ID",
        "SALESFORCE_CLIENT_SECRET",
        "SALESFORCE_JWT_KEY_FILE",
        "SALESFORCE_JWT_AUDIENCE",
    ):
        setattr(settings, name, "")


def test_nothing_configured_means_the_sandbox(settings):
    _clear(settings)
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8123/"
    config = config_from_settings()
    assert config.is_sandbox
    assert config.login_url == "http://127.0.0.1:8123"
    assert config.flow == "password"
    assert config.username and config.password and config.client_id and config.client_secret


def test_a_login_url_without_credentials_is_refused(settings):
    _clear(settings)
    settings.SALESFORCE_LOGIN_URL = "https://acme.my.salesforce.com"
    with pytest.raises(ConfigurationError, match="no credentials"):
        config_from_settings()


def test_a_password_flow_needs_the_connected_app(settings):
    _clear(settings)
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_PASSWORD = "pw"
    with pytest.raises(ConfigurationError, match="SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET"):
        config_from_settings()


def test_the_password_flow_appends_the_security_token(sf_settings, org):
    org.password = "pwTOKEN123"
    sf_settings.SALESFORCE_PASSWORD = "pw"
    sf_settings.SALESFORCE_SECURITY_TOKEN = "TOKEN123"
    assert get_client().daily_api_remaining() == 14000
    assert org.logins[0]["grant_type"] == "password"


def test_secrets_stay_out_of_reprs(sf_settings):
    sf_settings.SALESFORCE_SECURITY_TOKEN = "TOKEN123"
    config = config_from_settings()
    assert "TOKEN123" not in repr(config)
    assert sf_settings.SALESFORCE_PASSWORD not in repr(config)
    assert sf_settings.SALESFORCE_CLIENT_SECRET not in repr(config)


def test_the_client_credentials_flow(settings, org):
    _clear(settings)
    settings.SALESFORCE_LOGIN_URL = org.url
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    assert config_from_settings().flow == "client_credentials"
    assert get_client().daily_api_remaining() == 14000
    assert org.logins[0] == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
    }


def test_the_jwt_bearer_flow_signs_an_assertion(settings, org, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    _clear(settings)
    settings.SALESFORCE_LOGIN_URL = org.url
    settings.SALESFORCE_CLIENT_ID = "the-consumer-key"
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_JWT_KEY_FILE = str(key_file)
    assert get_client().daily_api_remaining() == 14000
    form = org.logins[0]
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], key.public_key(), algorithms=["RS256"], audience=org.url)
    assert claims["iss"] == "the-consumer-key"
    assert claims["sub"] == "me@acme.com"


def test_a_missing_jwt_key_is_a_clear_error(settings, tmp_path):
    _clear(settings)
    settings.SALESFORCE_CLIENT_ID = "cid"
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_JWT_KEY_FILE = str(tmp_path / "missing.key")
    with pytest.raises(ConfigurationError, match="Cannot read SALESFORCE_JWT_KEY_FILE"):
        get_client().limits()


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ],
)
def test_the_jwt_audience_is_salesforces_login_server(settings, login_url, audience):
    _clear(settings)
    settings.SALESFORCE_LOGIN_URL = login_url
    settings.SALESFORCE_CLIENT_ID = "cid"
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_JWT_KEY_FILE = "/k"
    assert config_from_settings().audience == audience


def test_a_refused_login_never_shows_the_password(sf_settings, org, caplog):
    caplog.set_level(logging.DEBUG)
    sf_settings.SALESFORCE_PASSWORD = "s3cret-Pa55"
    with pytest.raises(AuthenticationError) as info:
        get_client().limits()
    assert "invalid_grant: authentication failure" in str(info.value)
    assert "s3cret-Pa55" not in str(info.value)
    assert "s3cret-Pa55" not in repr(info.value)
    assert "s3cret-Pa55" not in caplog.text
    assert "csecret" not in caplog.text
    assert len(org.logins) == 1  # a refused login is not retried


def test_a_login_5xx_is_retried(client, org):
    org.fail("POST", r"/services/oauth2/token", 503, {"error": "unavailable"})
    assert client.daily_api_remaining() == 14000
    assert len(org.logins) == 2


def test_access_tokens_never_reach_the_logs(client, org, caplog):
    caplog.set_level(logging.DEBUG)
    org.fail("GET", r"/limits", 500, [{"errorCode": "X", "message": "y"}])
    client.limits()
    org.expire_sessions()
    client.limits()
    assert "00DFAKE!token" not in caplog.text


def test_an_instance_under_a_path_prefix_over_plain_http(sf_settings):
    """simple-salesforce builds https://host/services/...; the sandbox adapter rewrites it."""
    org = FakeOrg(prefix="/sandbox/salesforce").start()
    try:
        sf_settings.SALESFORCE_LOGIN_URL = org.url
        org.rows["Lead"] = [{"Id": f"00Q{i}"} for i in range(5)]
        client = get_client()
        assert len(list(client.query("SELECT Id FROM Lead"))) == 5  # incl. nextRecordsUrl
        assert client.update("Lead", [{"Id": "00Q1"}])[0].success
    finally:
        org.stop()
