import pytest

from syncapp.engine import data_deletion
from syncapp.engine.cycle import start_cycle
from syncapp.models import Activity, StudioOptions
from syncapp.models.statuses import Trigger

pytestmark = pytest.mark.django_db


def test_deleting_activities_removes_them_in_the_org_and_locally(activities_synced):
    assert data_deletion.delete_data("activities") == 6
    assert activities_synced.sf.db["SW_Activity__c"] == {}
    assert not Activity.objects.exists()


def test_refused_while_a_cycle_runs(activities_synced):
    start_cycle(Trigger.RUNNER)
    with pytest.raises(data_deletion.DataDeletionRefused, match="is running"):
        data_deletion.delete_data("activities")
    assert len(activities_synced.sf.db["SW_Activity__c"]) == 3


def test_refused_while_activity_sync_is_on(activities_synced):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    with pytest.raises(data_deletion.DataDeletionRefused, match="Switch it off"):
        data_deletion.delete_data("activities")


@pytest.mark.parametrize(
    ("fault", "message"), [("limit_left", "Limit exceeded"), ("transient", "UNABLE_TO_LOCK_ROW")]
)
def test_an_org_that_refuses_is_a_refusal_and_keeps_the_local_activities(
    activities_synced, fault, message
):
    """The org's daily limit used up, or an error that outlasted the retries: a message (the
    Setup page shows it), not a crash; nothing local goes before the org's records."""
    setattr(activities_synced.sf, fault, 0 if fault == "limit_left" else 99)
    with pytest.raises(data_deletion.DataDeletionRefused, match=message) as exc:
        data_deletion.delete_data("activities")
    assert str(exc.value).startswith("0 records deleted in Salesforce, then it refused")
    assert Activity.objects.count() == 3
    setattr(activities_synced.sf, fault, None if fault == "limit_left" else 0)
    assert data_deletion.delete_data("activities") == 6  # deleting again goes on


def test_unknown_data_set(db):
    with pytest.raises(ValueError, match="Unknown data set"):
        data_deletion.delete_data("everything")
