"""System checks catch a Salesforce connection that cannot work."""

from syncapp.checks import check_salesforce_connection


def _ids(settings):
    return [m.id for m in check_salesforce_connection(None)]


def test_the_embedded_default_passes(settings):
    settings.SALESFORCE_LOGIN_URL = ""
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_CLIENT_ID = ""
    settings.SALESFORCE_JWT_KEY_FILE = ""
    settings.SANDBOX_ENABLED = True
    assert _ids(settings) == []


def test_incomplete_credentials(settings):
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_PASSWORD = ""
    assert _ids(settings) == ["swstudio.E020"]


def test_no_org_and_no_sandbox(settings):
    settings.SALESFORCE_LOGIN_URL = ""
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_CLIENT_ID = ""
    settings.SALESFORCE_JWT_KEY_FILE = ""
    settings.SALESWINGS_API_URL = ""
    settings.SANDBOX_ENABLED = False
    assert _ids(settings) == ["swstudio.E021", "swstudio.W020"]


def test_an_unreadable_jwt_key(settings, tmp_path):
    settings.SALESFORCE_USERNAME = "me@acme.com"
    settings.SALESFORCE_CLIENT_ID = "cid"
    settings.SALESFORCE_JWT_KEY_FILE = str(tmp_path / "nope.key")
    assert _ids(settings) == ["swstudio.E022"]


def test_a_plain_http_saleswings_endpoint_outside_debug(settings):
    settings.SALESFORCE_LOGIN_URL = ""
    settings.SALESFORCE_USERNAME = ""
    settings.SALESFORCE_CLIENT_ID = ""
    settings.SALESFORCE_JWT_KEY_FILE = ""
    settings.SANDBOX_ENABLED = True
    settings.DEBUG = False
    settings.SALESWINGS_API_URL = "http://api.saleswings.example/api/v1"
    assert _ids(settings) == ["swstudio.E023"]
    settings.SALESWINGS_API_URL = "https://api.saleswings.example/api/v1"
    assert _ids(settings) == []
