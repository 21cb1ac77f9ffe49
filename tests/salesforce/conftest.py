import pytest

from syncapp.salesforce import auth
from tests.salesforce.fakeorg import FakeOrg


@pytest.fixture(autouse=True)
def _fresh_tokens():
    auth.token_cache.clear()
    yield
    auth.token_cache.clear()


@pytest.fixture
def org():
    fake = FakeOrg().start()
    yield fake
    fake.stop()


@pytest.fixture
def sf_settings(settings, org):
    """Settings pointing the client at the fake org with the password flow, fast retries."""
    settings.SALESFORCE_LOGIN_URL = org.url
    settings.SALESFORCE_USERNAME = org.username
    settings.SALESFORCE_PASSWORD = org.password
    settings.SALESFORCE_SECURITY_TOKEN = ""
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    settings.SALESFORCE_JWT_KEY_FILE = ""
    settings.SALESFORCE_RETRY_ATTEMPTS = 3
    settings.SALESFORCE_RETRY_BASE_DELAY = 0
    return settings


@pytest.fixture
def client(sf_settings):
    from syncapp.salesforce import get_client

    return get_client()
