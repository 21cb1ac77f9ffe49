"""A Full Synchronization request: made, then consumed by the cycle that ran it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from syncapp.models import StudioOptions

pytestmark = pytest.mark.django_db


def test_the_cycle_that_ran_it_consumes_the_request():
    created = timezone.now()
    StudioOptions.set_full_sync_request(True, now=created - timedelta(minutes=1))
    StudioOptions.consume_full_sync(created, created + timedelta(minutes=5))
    options = StudioOptions.load()
    assert options.full_sync_requested is False
    assert options.full_sync_consumed_at == created + timedelta(minutes=5)


def test_a_request_made_after_the_cycle_was_created_waits_for_the_next():
    created = timezone.now()
    StudioOptions.set_full_sync_request(True, now=created + timedelta(minutes=1))
    StudioOptions.consume_full_sync(created, created + timedelta(minutes=5))
    options = StudioOptions.load()
    assert options.full_sync_requested is True
    assert options.full_sync_consumed_at == created + timedelta(minutes=5)
