"""What both modes of the Match steps write locally: snapshots, scan hits, statuses; and how
a write is cut into collection calls sent side by side."""

import math
from collections import defaultdict
from typing import NamedTuple

from syncapp import bulk
from syncapp.models import Activity, MatchScanHit, RecordSnapshot
from syncapp.salesforce import COLLECTION_SIZE

SNAPSHOT_COLUMNS = ["salesforce_id", "object", *RecordSnapshot.SF_FIELDS]


def refresh_snapshots(obj, records, written):
    """Keep the send-up's snapshot in step with what the sync itself wrote.

    `written` maps record id to the fields written (its "Id" among them or not). A record the
    sync did not write keeps its snapshot (a user's change not yet sent up must still be
    noticed); a record never seen gets one (with what was written), so it is only sent up
    when it changes later. A known record the sync wrote takes what was written, in the
    snapshot fields the write touched. One prepared upsert per set of touched fields.
    """
    by_fields = defaultdict(list)
    snapshot_fields = RecordSnapshot.SF_FIELDS.items()
    row_of = RecordSnapshot.row_of
    touched = {}  # a diff's field names (few distinct sets): the snapshot fields among them
    for record in records:
        rid = record["Id"]
        diff = written.get(rid)
        if diff:
            names = tuple(diff)
            attrs = touched.get(names)
            if attrs is None:
                attrs = touched[names] = tuple(a for a, f in snapshot_fields if f in diff)
            record = record | diff
        else:
            attrs = ()
        by_fields[attrs].append([rid, obj, *row_of(record)])
    for attrs, rows in by_fields.items():
        bulk.insert_columns(
            RecordSnapshot,
            SNAPSHOT_COLUMNS,
            rows,
            unique=["salesforce_id"],
            update=list(attrs) or None,
        )


class Hit(NamedTuple):
    """A record scan mode matched to a pending prospect, and how its write went
    (`MatchScanHit`)."""

    object: str
    prospect_pk: int
    record_id: str
    error: str = ""
    attempt: bool = False  # the failure counts as a sync attempt


HIT_COLUMNS = list(Hit._fields)


def insert_hits(hits):
    bulk.insert_columns(MatchScanHit, HIT_COLUMNS, hits)


def mark_processed(side, prospects, synced_activities):
    """Prospects (a queryset) done on both sides become Processed; their activities synced on
    `side` are marked."""
    prospects.mark_processed()
    if synced_activities:
        Activity.objects.filter(pk__in=synced_activities).mark_synced(side)


def failure_message(errors, attempts, max_attempts):
    message = "; ".join(errors)
    if attempts >= max_attempts:
        message += f" (given up after {attempts} attempts; a Full Synchronization tries again)"
    return message[:2000]


def call_parts(records, parts):
    """(start, end) of at most `parts` contiguous slices of `records` records, each of whole
    collection calls, as even as the calls allow (the longer ones first)."""
    calls = math.ceil(records / COLLECTION_SIZE)
    if not calls:
        return []
    per, extra = divmod(calls, min(parts, calls))
    bounds, start = [], 0
    for index in range(min(parts, calls)):
        end = min(records, start + (per + (index < extra)) * COLLECTION_SIZE)
        bounds.append((start, end))
        start = end
    return bounds
