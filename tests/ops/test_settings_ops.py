"""The observability settings from the environment: a bad value stops the start, naming its
variable (swstudio_site/settings.py)."""

import importlib
import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from swstudio_site import settings as settings_module


@pytest.fixture
def reload_settings(monkeypatch):
    yield lambda: importlib.reload(settings_module)
    monkeypatch.undo()
    importlib.reload(settings_module)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml': use plain or json"),
        ("SWSTUDIO_METRICS_TOKEN", "short", "SWSTUDIO_METRICS_TOKEN is too short"),
        ("SWSTUDIO_METRICS_ALLOWED_IPS", "10.0.0.0/8,intranet", "'intranet' is not an IP"),
        ("SWSTUDIO_METRICS_ALLOWED_IPS", "10.0.0.300", "'10.0.0.300' is not an IP"),
        ("SWSTUDIO_HEALTH_TIMEOUT", "0", "SWSTUDIO_HEALTH_TIMEOUT=0.0: use a number"),
        ("SWSTUDIO_HEALTH_TIMEOUT", "soon", "SWSTUDIO_HEALTH_TIMEOUT='soon' is not valid"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, reload_settings, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message.replace(".", r"\.")):
        reload_settings()


def test_the_guard_and_the_log_format_are_read_from_the_environment(monkeypatch, reload_settings):
    monkeypatch.setenv("SWSTUDIO_METRICS_TOKEN", "x" * 32)
    monkeypatch.setenv("SWSTUDIO_METRICS_ALLOWED_IPS", "10.0.0.0/8, 192.0.2.7,::1")
    monkeypatch.setenv("LOG_FORMAT", "json")
    s = reload_settings()
    assert s.SWSTUDIO_METRICS_TOKEN == "x" * 32
    networks = ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]
    allowed = s.SWSTUDIO_METRICS_ALLOWED_IPS
    assert allowed == [ipaddress.ip_network(n) for n in networks]
    assert s.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert s.MIDDLEWARE[0] == "syncapp.ops.health.HealthMiddleware"
