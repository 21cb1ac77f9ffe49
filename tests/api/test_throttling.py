import os
import secrets
import subprocess
import sys
from pathlib import Path

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


# One POST as a separate web process would count it: settings from the environment, the
# throttle against the cache those settings name. Prints whether the POST was allowed.
ONE_POST = """
import django
django.setup()
from types import SimpleNamespace
from django.conf import settings
from syncapp.api.throttling import SyncPostThrottle
settings.SWSTUDIO_API_POST_RATE = "2/min"
user = SimpleNamespace(is_authenticated=True, pk={pk})
request = SimpleNamespace(method="POST", user=user, META={{}})
print(SyncPostThrottle().allow_request(request, None))
"""


@pytest.mark.parametrize(
    ("cache_url", "expected"),
    [
        ("redis://127.0.0.1:6379/12", ["True", "True", "False"]),  # one count per user
        ("", ["True", "True", "True"]),  # the default: each process counts on its own
    ],
)
def test_cache_url_makes_the_limit_one_per_user_across_processes(cache_url, expected):
    pk = secrets.randbelow(10**12) + 10**6  # a user no earlier run has counted
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "swstudio_site.settings"}
    env.pop("CACHE_URL", None)
    if cache_url:
        env["CACHE_URL"] = cache_url
    root = Path(__file__).resolve().parents[2]
    answers = [
        subprocess.run(
            [sys.executable, "-c", ONE_POST.format(pk=pk)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        for _ in range(3)
    ]
    assert answers == expected
