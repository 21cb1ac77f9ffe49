"""Admin login throttling (django-axes; issue 27, point 6), through the login form over HTTP.

Five failed logins for one user name from one address lock that pair out (429), even with the
right password next; another address, or another user name, still logs in; a success resets
the count.
"""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def _personas(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.administrator(username="ada", password=PASSWORD)
    factories.administrator(username="bob", password=PASSWORD)


def _login(username, password, ip="203.0.113.7"):
    client = Client(REMOTE_ADDR=ip)
    return client.post("/admin/login/", {"username": username, "password": password}), client


def test_five_failures_lock_that_user_name_from_that_address():
    for _ in range(4):
        response, _ = _login("ada", "wrong")
        assert response.status_code == 200  # the form again, with its error
    response, _ = _login("ada", "wrong")
    assert response.status_code == 429
    response, client = _login("ada", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Nobody locks an administrator out from elsewhere, nor another user from here.
    assert _login("ada", PASSWORD, ip="198.51.100.9")[0].status_code == 302
    assert _login("bob", PASSWORD)[0].status_code == 302


def test_a_success_resets_the_count():
    for _ in range(4):
        _login("ada", "wrong")
    assert _login("ada", PASSWORD)[0].status_code == 302
    for _ in range(4):
        assert _login("ada", "wrong")[0].status_code == 200
    assert _login("ada", PASSWORD)[0].status_code == 302
