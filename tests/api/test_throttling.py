import pytest

from syncapp.models import SyncState
from tests.api.conftest import assert_error, token_client
from tests.factories import administrator

pytestmark = pytest.mark.django_db


def test_posts_beyond_the_rate_are_429_with_retry_after(settings, admin_client):
    settings.SWSTUDIO_API_POST_RATE = "3/min"
    for _ in range(3):
        assert admin_client.post("/Sync/v1/TurnSyncOn").status_code == 200

    admin_client.post("/Sync/v1/TurnSyncOff")  # the fourth: refused before it runs
    response = admin_client.post("/Sync/v1/TurnSyncOff")

    error = assert_error(response, 429, "throttled")
    retry = int(response["Retry-After"])
    assert 1 <= retry <= 60
    assert error["retryAfter"] == retry
    assert f"{retry} seconds" in error["message"]
    assert SyncState.load().enabled  # TurnSyncOff never ran


def test_the_limit_is_per_user(settings, admin_client):
    settings.SWSTUDIO_API_POST_RATE = "1/min"
    assert admin_client.post("/Sync/v1/TurnSyncOn").status_code == 200
    assert admin_client.post("/Sync/v1/TurnSyncOn").status_code == 429
    other = token_client(administrator(username="other-admin"))
    assert other.post("/Sync/v1/TurnSyncOn").status_code == 200


def test_get_status_is_not_limited(settings, admin_client):
    settings.SWSTUDIO_API_POST_RATE = "1/min"
    for _ in range(5):
        assert admin_client.get("/Sync/v1/GetSyncStatus").status_code == 200
    assert admin_client.post("/Sync/v1/TurnSyncOn").status_code == 200


def test_a_bad_rate_setting_fails_loudly(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from swstudio_site import settings as settings_module

    monkeypatch.setenv("SWSTUDIO_API_POST_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="SWSTUDIO_API_POST_RATE"):
        importlib.reload(settings_module)
    monkeypatch.delenv("SWSTUDIO_API_POST_RATE")
    importlib.reload(settings_module)
