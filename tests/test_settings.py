"""Settings from the environment: a value that is not of its type, or out of its range,
stops the start with the variable's name (swstudio_site/settings.py)."""

import importlib

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
