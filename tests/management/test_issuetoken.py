from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def issue(*args):
    out, err = StringIO(), StringIO()
    call_command("issuetoken", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_prints_a_token_that_works(admin_user):
    key, err = issue("admin-persona")
    assert "New token" in err
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/Sync/v1/TurnSyncOn").status_code == 200


def test_prints_the_same_token_again(admin_user):
    first, _ = issue("admin-persona")
    again, err = issue("admin-persona")
    assert again == first and "Existing" in err
    assert Token.objects.filter(user=admin_user).count() == 1


def test_rotate_replaces_the_token(admin_user):
    old, _ = issue("admin-persona")
    new, _ = issue("admin-persona", "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/Sync/v1/GetSyncStatus").status_code == 401


def test_warns_about_a_user_without_a_role(outsider_user):
    key, err = issue("outsider-persona")
    assert key and "403" in err


def test_notes_a_viewer_is_read_only(viewer_user):
    _, err = issue("viewer-persona")
    assert "GetSyncStatus only" in err


def test_unknown_or_inactive_users_are_errors(db):
    with pytest.raises(CommandError, match="No user"):
        issue("ghost")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        issue("gone")
    assert not Token.objects.exists()
