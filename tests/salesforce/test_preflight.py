"""A cycle does not start while the org has fewer daily API calls left than the reserve."""

import pytest

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.engine.preflight import api_reserve as preflight_api_reserve
from syncapp.models import StudioOptions
from syncapp.models.statuses import CycleStatus, Trigger
from tests.salesforce.fakeorg import sf_error

# The preflight asks the org through the engine's clients: the real one, against the fake org.
pytestmark = [pytest.mark.django_db, pytest.mark.real_clients]


def _reserve(n):
    options = StudioOptions.load()
    options.api_call_reserve = n
    options.save()


def test_below_the_reserve_is_a_problem(sf_settings, org):
    _reserve(1000)
    org.remaining = 12
    assert preflight_api_reserve() == (
        "the org has 12 daily API calls left, below the reserve of 1000"
    )


def test_at_or_above_the_reserve_is_fine(sf_settings, org):
    _reserve(1000)
    org.remaining = 1000
    assert preflight_api_reserve() is None


def test_no_reserve_means_no_call(sf_settings, org):
    _reserve(0)
    assert preflight_api_reserve() is None
    assert org.requests == [] and org.logins == []


def test_a_used_up_limit_is_a_problem(sf_settings, org):
    _reserve(10)
    org.fail("GET", r"/limits", 403, sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests"))
    assert "no daily API calls left" in preflight_api_reserve()


def test_an_unreachable_org_is_a_problem(sf_settings, org):
    _reserve(10)
    org.password = "changed"
    assert "could not check the org's daily API calls" in preflight_api_reserve()


def test_the_cycle_record_says_why_it_did_not_start(sf_settings, org, admin_user, job_queue):
    sf_settings.SWSTUDIO_PREFLIGHT = ["syncapp.engine.preflight.api_reserve"]
    _reserve(1000)
    org.remaining = 5
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.status == CycleStatus.FAILED
    assert "the org has 5 daily API calls left, below the reserve of 1000" in cycle.note
    assert job_queue.ids == []


def test_the_default_settings_run_this_preflight():
    from swstudio_site import settings as site_settings

    assert "syncapp.engine.preflight.api_reserve" in site_settings.SWSTUDIO_PREFLIGHT
