"""Settings from the environment: a value that is not of its type, or out of its range,
stops the start with the variable's name (swstudio_site/settings.py)."""

import importlib
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from swstudio_site import settings as settings_module


@pytest.fixture
def reload_settings(monkeypatch):
    """Reloads the settings module under the environment the test sets; afterwards, once
    more under the original one."""
    yield lambda: importlib.reload(settings_module)
    monkeypatch.undo()
    importlib.reload(settings_module)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SALESFORCE_RETRY_ATTEMPTS", "five", "SALESFORCE_RETRY_ATTEMPTS='five' is not valid"),
        ("SALESFORCE_READ_TIMEOUT", "soon", "SALESFORCE_READ_TIMEOUT='soon' is not valid"),
        ("SWSTUDIO_STEP_TIMEOUT", "1.5h", "SWSTUDIO_STEP_TIMEOUT='1.5h' is not valid"),
        ("SALESFORCE_WRITE_CONCURRENCY", "0", "SALESFORCE_WRITE_CONCURRENCY=0: use 1 to 10"),
        ("SALESFORCE_WRITE_CONCURRENCY", "11", "SALESFORCE_WRITE_CONCURRENCY=11: use 1 to 10"),
        ("SALESFORCE_WRITE_CONCURRENCY", "two", "SALESFORCE_WRITE_CONCURRENCY='two' is not"),
        ("SWSTUDIO_API_POST_RATE", "lots", "SWSTUDIO_API_POST_RATE"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, reload_settings, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message.replace(".", r"\.")):
        reload_settings()


def test_write_concurrency_is_read_from_the_environment(monkeypatch, reload_settings):
    monkeypatch.setenv("SALESFORCE_WRITE_CONCURRENCY", "6")
    assert reload_settings().SALESFORCE_WRITE_CONCURRENCY == 6


def test_cache_url_options_reach_django(monkeypatch, reload_settings):
    """django-environ writes a redis:// URL's base options in lower case, which Django
    ignores: they are put back as Django reads them."""
    monkeypatch.setenv(
        "CACHE_URL", "redis://127.0.0.1:6379/12?key_prefix=swstudio-a&timeout=60&version=2"
    )
    cache = reload_settings().CACHES["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert (cache["KEY_PREFIX"], cache["TIMEOUT"], cache["VERSION"]) == ("swstudio-a", 60, 2)
    assert not {"key_prefix", "timeout", "version"} & set(cache)


def test_two_deployments_with_their_own_key_prefix_share_one_redis_database(
    monkeypatch, reload_settings
):
    """Against the machine's Redis: a key set through one prefix is not seen through the
    other."""
    from django.utils.module_loading import import_string

    def cache(prefix):
        monkeypatch.setenv("CACHE_URL", f"redis://127.0.0.1:6379/12?key_prefix={prefix}")
        config = reload_settings().CACHES["default"]
        return import_string(config["BACKEND"])(config["LOCATION"], config)

    a, b = cache("swstudio-a"), cache("swstudio-b")
    key = f"shared-{secrets.token_hex(4)}"
    a.set(key, "a", 30)
    assert b.get(key) is None
    b.set(key, "b", 30)
    assert (a.get(key), b.get(key)) == ("a", "b")
    a.delete(key)
    b.delete(key)


def test_the_sandbox_is_looked_for_on_port(monkeypatch, reload_settings):
    """`PORT=8001 scripts/start` serves the sandbox there; manage.py commands given the same
    PORT find it (they went to 8000 and failed the cycle they started)."""
    monkeypatch.delenv("SANDBOX_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8001")
    assert reload_settings().SANDBOX_BASE_URL == "http://127.0.0.1:8001"
    monkeypatch.setenv("SANDBOX_BASE_URL", "http://sandbox.internal:9000")
    assert reload_settings().SANDBOX_BASE_URL == "http://sandbox.internal:9000"
