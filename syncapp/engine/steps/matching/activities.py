"""With activity sync on: a Match step upserts its prospects' new activities as SW Activity
records, linked to the Lead (Contact) each prospect matched."""

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from django.conf import settings

from syncapp.engine.steps.common import describe_failure, sf_datetime
from syncapp.engine.steps.matching.writes import call_parts
from syncapp.models import Activity

ACTIVITY_OBJECT = "SW_Activity__c"
ACTIVITY_KEY = "SW_Activity_Id__c"


class ActivityOutcome(NamedTuple):
    errors: dict  # prospect pk: the messages of its activities that failed
    synced: list  # the pks of the activities written, or with no record to link to


class _Sent(NamedTuple):
    pk: int
    prospect_pk: int
    backend_id: str


def push_activities(sf, batch, side, lookup_field, links):
    """Upsert the new activities of the prospects in `links` (prospect pk: the record id to
    link them to, or None: nothing to link, nothing to write) as SW Activity records, the
    record in `lookup_field`. Returns an `ActivityOutcome`."""
    # Values, not model instances: an instance each, with its prospect's (tags and scores
    # decoded from JSON), cost most of the Match steps with activity sync on.
    activities = Activity.objects.filter(
        prospect_id__in=list(links), **{f"{side}_synced": False}
    ).values_list(
        "pk", "prospect_id", "backend_id", "prospect__backend_id", "type", "occurred_at",
        "url", "title",
    )  # fmt: skip
    errors, synced, rows, sent = defaultdict(list), [], [], []
    for pk, prospect_pk, backend_id, prospect_id, kind, occurred, url, title in activities:
        rid = links.get(prospect_pk)
        if rid is None:
            synced.append(pk)  # no record to link it to: nothing to write
            continue
        rows.append(
            {
                ACTIVITY_KEY: backend_id,
                "SW_Prospect_Id__c": prospect_id,
                lookup_field: rid,
                "Type__c": kind,
                "Occurred_At__c": sf_datetime(occurred),
                "URL__c": url or None,
                "Title__c": title or None,
            }
        )
        sent.append(_Sent(pk, prospect_pk, backend_id))
    if rows:
        results = upsert_in_parts(sf, ACTIVITY_OBJECT, ACTIVITY_KEY, rows)
        for activity, result in zip(sent, results, strict=True):
            if result.success:
                batch.modified += 1
                synced.append(activity.pk)
            else:
                message = f"SW Activity {activity.backend_id}: {describe_failure(result)}"
                batch.record_failure(message)
                errors[activity.prospect_pk].append(message)
    return ActivityOutcome(errors, synced)


def upsert_in_parts(sf, obj, key, rows):
    """`sf.upsert(obj, key, rows)`, its collection calls sent in up to
    `SALESFORCE_WRITE_CONCURRENCY` parts side by side (as the Match steps' updates are): the
    org works on one while the client waits for another. Every part is waited for; a part
    that failed as a whole fails the call as one `sf.upsert` would (the upserts are
    idempotent: what the other parts wrote is written again, unchanged, next time)."""
    parts = call_parts(len(rows), settings.SALESFORCE_WRITE_CONCURRENCY)
    if len(parts) <= 1:
        return sf.upsert(obj, key, rows)
    with ThreadPoolExecutor(len(parts), thread_name_prefix="sf-upsert") as pool:
        futures = [pool.submit(sf.upsert, obj, key, rows[start:end]) for start, end in parts]
    results = []
    for future in futures:
        results += future.result()  # the first failure, in the records' order, is raised
    return results
