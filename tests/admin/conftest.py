import pytest
from django.test import Client


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_sw(admin_user):
    """Logged in as the SW Studio Administrator persona."""
    return _client_for(admin_user)


@pytest.fixture
def viewer_client(viewer_user):
    return _client_for(viewer_user)


@pytest.fixture
def outsider_client(outsider_user):
    return _client_for(outsider_user)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas' passwords are hashed once per test; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
