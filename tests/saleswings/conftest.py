import pytest

from tests.saleswings.fakebackend import FakeBackend


@pytest.fixture
def backend():
    fake = FakeBackend().start()
    yield fake
    fake.stop()


@pytest.fixture
def sw_settings(settings, backend):
    settings.SALESWINGS_API_URL = backend.url
    settings.SALESWINGS_API_TOKEN = backend.token
    settings.SALESWINGS_RETRY_ATTEMPTS = 3
    settings.SALESWINGS_RETRY_BASE_DELAY = 0
    return settings


@pytest.fixture
def sw(sw_settings, db):
    from syncapp.engine.backend import get_client

    return get_client()
