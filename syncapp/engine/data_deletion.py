"""The Setup page's Data section: deleting an optional data set the sync created while an
option was on, in the org and locally."""

from syncapp.engine import clients
from syncapp.engine.steps.common import chunked
from syncapp.models import Activity, StudioOptions, SWApexJob, WaitingActivity
from syncapp.salesforce import SalesforceError


class DataDeletionRefused(Exception):  # noqa: N818
    """A data set cannot be deleted now (a cycle runs, or its option is still on)."""


DATASETS = {
    "activities": "SW Activity records (SW_Activity__c) and the local activities",
}


def delete_data(dataset):
    """Delete an optional data set. Returns how many records went (in the org and locally).

    Refused while a cycle runs (it could be writing the same records) and while the option
    that creates the data is on.
    """
    if dataset not in DATASETS:
        raise ValueError(f"Unknown data set {dataset!r}; known: {', '.join(sorted(DATASETS))}.")
    running = SWApexJob.objects.in_progress().order_by("-id").first()
    if running:
        raise DataDeletionRefused(
            f"Nothing was deleted: a synchronization cycle ({running.name}) is running; try "
            "again when it is over."
        )
    if StudioOptions.load().activity_sync:
        raise DataDeletionRefused(
            "Nothing was deleted: SW Activity Data is on. Switch it off first, or the next "
            "cycle creates them again."
        )
    sf = clients.salesforce()
    deleted = 0
    failures = []
    try:
        ids = [r["Id"] for r in sf.query("SELECT Id FROM SW_Activity__c")]
        for chunk in chunked(ids, 200):
            for result in sf.delete(chunk):
                if result.success:
                    deleted += 1
                else:
                    failures.append(f"{result.id}: {'; '.join(result.errors)}")
    except SalesforceError as exc:
        # The org refused or could not be reached (its limit, an outage): what went is counted,
        # the local activities stay until the org's are gone, and deleting again goes on.
        raise DataDeletionRefused(
            f"{deleted} records deleted in Salesforce, then it refused: {exc}. Nothing else was "
            "deleted; delete again to go on."
        ) from exc
    deleted += Activity.objects.all().delete()[0]
    deleted += WaitingActivity.objects.all().delete()[0]
    if failures:
        raise DataDeletionRefused(
            f"{deleted} records deleted; {len(failures)} could not be: {'; '.join(failures[:5])}"
        )
    return deleted
