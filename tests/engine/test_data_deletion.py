import pytest

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.engine.statuses import Trigger
from syncapp.models import Activity, StudioOptions

pytestmark = pytest.mark.django_db


@pytest.fixture
def activities_synced(world):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for n in range(3):
        world.sw.put_activity(
            id=f"act_{n}",
            prospectId="p_ada",
            type="page_visit",
            occurredAt="2026-11-26T09:00:00+00:00",
        )
    world.cycle()
    assert len(world.sf.db["SW_Activity__c"]) == 3
    options.activity_sync = False
    options.save()
    return world


def test_deleting_activities_removes_them_in_the_org_and_locally(activities_synced):
    assert control.delete_data("activities") == 6
    assert activities_synced.sf.db["SW_Activity__c"] == {}
    assert not Activity.objects.exists()


def test_refused_while_a_cycle_runs(activities_synced):
    start_cycle(Trigger.RUNNER)
    with pytest.raises(control.DataDeletionRefused, match="is running"):
        control.delete_data("activities")
    assert len(activities_synced.sf.db["SW_Activity__c"]) == 3


def test_refused_while_activity_sync_is_on(activities_synced):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    with pytest.raises(control.DataDeletionRefused, match="switch it off"):
        control.delete_data("activities")


def test_unknown_data_set(db):
    with pytest.raises(ValueError, match="Unknown data set"):
        control.delete_data("everything")
