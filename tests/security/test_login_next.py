"""A login with an unsafe `next` lands on the admin, not on a 404 (issue 27, point 7)."""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.administrator(username="ada", password=PASSWORD)
    return Client()


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/admin/", "http://testserver.evil/"]
)
def test_an_unsafe_next_lands_on_the_admin(browser, unsafe):
    response = browser.post(
        f"/admin/login/?next={unsafe}",
        {"username": "ada", "password": PASSWORD, "next": unsafe},
        follow=True,
    )
    assert response.redirect_chain[0][0] == "/admin/"
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/admin/"


def test_a_safe_next_is_followed(browser):
    response = browser.post(
        "/admin/login/?next=/admin/syncapp/swapexjob/",
        {"username": "ada", "password": PASSWORD, "next": "/admin/syncapp/swapexjob/"},
    )
    assert response["Location"] == "/admin/syncapp/swapexjob/"
