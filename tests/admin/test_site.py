"""The admin is branded SW Studio and the Setup page is the first thing offered."""

import pytest
from django.test import Client
from django.urls import reverse

from syncapp.engine import control
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded():
    content = Client().get(reverse("admin:login")).content.decode()
    assert "<title>Log in | SW Studio</title>" in content
    assert "SW Studio" in content.split('id="site-name"', 1)[1][:200]


def test_logging_in_lands_on_the_setup_page(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.administrator(username="ada")
    client = Client()
    login = client.get(reverse("admin:login"))
    assert f'value="{reverse("admin:swstudio_setup")}"' in login.content.decode()
    response = client.post(
        reverse("admin:login"),
        {"username": "ada", "password": "pw-for-tests-1", "next": reverse("admin:swstudio_setup")},
    )
    assert response["Location"] == reverse("admin:swstudio_setup")


def test_the_index_opens_with_the_setup_card(admin_client_sw, admin_user):
    control.turn_on(admin_user)
    content = admin_client_sw.get(reverse("admin:index")).content.decode()
    assert 'id="sw-home"' in content
    assert content.index('id="sw-home"') < content.index('class="app-syncapp')
    assert "sw-pill-on" in content


def test_the_outsider_gets_no_setup_card(outsider_client):
    content = outsider_client.get(reverse("admin:index")).content.decode()
    assert 'id="sw-home"' not in content


@pytest.mark.parametrize(
    "url",
    [
        "/admin/syncapp/prospect/?email__regex=(",
        "/admin/syncapp/swapexjob/?name__iregex=[",
        "/admin/auth/user/?username__regex=(",
        "/admin/django_q/schedule/?name__regex=*",
    ],
)
def test_a_regex_in_a_list_query_string_is_refused_not_a_500(url):
    """A regular expression the database cannot compile was a 500 (SQLite: "user-defined
    function raised exception"; PostgreSQL: invalid regular expression). Every model admin,
    Django's and django-q2's too (a superuser sees them all)."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root-persona", "r@x.test", "x"))
    assert client.get(url).status_code == 400


def test_other_lookups_in_a_list_query_string_still_filter(admin_client_sw):
    response = admin_client_sw.get("/admin/syncapp/prospect/?email__icontains=nobody")
    assert response.status_code == 200


def test_logging_in_from_the_admin_index_lands_on_the_setup_page(settings):
    # What a first user does: open /admin/, get sent to the login form, log in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.administrator(username="ada")
    client = Client()
    to_login = client.get("/admin/")
    assert to_login.status_code == 302
    form = client.get(to_login["Location"]).content.decode()
    assert f'name="next" value="{reverse("admin:swstudio_setup")}"' in form
    response = client.post(
        to_login["Location"], {"username": "ada", "password": "pw-for-tests-1", "next": "/admin/"}
    )
    assert response["Location"] == reverse("admin:swstudio_setup")
    # A user on their way elsewhere still goes there.
    client.logout()
    response = client.post(
        reverse("admin:login") + "?next=/admin/syncapp/swapexjob/",
        {"username": "ada", "password": "pw-for-tests-1", "next": "/admin/syncapp/swapexjob/"},
    )
    assert response["Location"] == "/admin/syncapp/swapexjob/"


def test_the_index_links_to_the_api_docs(admin_client_sw):
    content = admin_client_sw.get(reverse("admin:index")).content.decode()
    assert 'href="/Sync/v1/docs"' in content
    assert admin_client_sw.get("/Sync/v1/docs").status_code == 200
