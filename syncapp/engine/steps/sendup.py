"""UpdateToSalesWings: send Lead/Contact changes made in Salesforce up to SalesWings.

Salesforce runs this from a trigger; we poll instead. It runs as the first step of every
cycle (not as a separate schedule): the cycle is already a poll at the Sync Gap's cadence, its
one-at-a-time guarantee keeps the send-up from racing the Match steps over the snapshot, and
its result shows in the run record like any step. Its async job's class name is
`UpdateToSalesWings`, as in the product.

Records with `SystemModstamp >= watermark` holding a prospect id are compared with the local
snapshot of their send-up fields; only those whose Email, SW Favorite, names, owner or prospect
id differ are sent, and the snapshot and the watermark move after the backend accepted them.
What the sync itself wrote is in the snapshot already, so it is not echoed back; a write whose
snapshot was never committed (its worker died in between) is recognised by holding the
mirror's own values (`own_writes`) and only refreshes the snapshot.
Every record read is also checked for cleaning (its prospect no longer applies: an e-mail
edited in Salesforce): the obsolete ones are kept for the Clean steps, which then need no scan
of their own (steps/cleaning.py).
"""

import datetime as dt

from django.utils import timezone

from syncapp import bulk
from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.cleaning import note_candidates, start_noting
from syncapp.engine.steps.common import (
    FAVORITE,
    PROSPECT_ID,
    chunked,
    sf_datetime,
    soql_datetime,
    soql_fields,
)
from syncapp.engine.steps.matching.writes import SNAPSHOT_COLUMNS
from syncapp.models import Lifecycle, Prospect, RecordSnapshot, SyncCursor

SEND_MAX = 500  # the backend takes at most 500 changes per call
FIELDS = ["Id", "Email", FAVORITE, "FirstName", "LastName", "OwnerId", PROSPECT_ID]
row_of = RecordSnapshot.row_of
# Positions in a snapshot row (`RecordSnapshot.SF_FIELDS`): the send-up fields the sync writes
# itself, and those only a person does.
SYNC_WRITTEN = (1, 5)  # SW_Favorite__c, SW_Prospect_Id__c
PERSON_ONLY = (0, 2, 3, 4)  # Email, FirstName, LastName, OwnerId


def own_writes(changed, known):
    """The Salesforce ids among `changed` ((record, row) pairs that differ from their snapshot)
    that are the sync's own write, not a person's: only the fields the sync writes differ (or
    there is no snapshot), and they hold the mirror's values for an active prospect with the
    record's e-mail. A Match batch whose worker died after its write, before its snapshots'
    commit, leaves such records."""
    ids = sorted({row[5] for _, row in changed if row[5]})
    fields = ("backend_id", "lifecycle", "email_key", "favorite")
    mirror = {
        backend_id: (lifecycle, email_key, bool(favorite))
        for backend_id, lifecycle, email_key, favorite in bulk.select_by_keys(
            Prospect, fields, "backend_id", ids
        )
    }
    own = set()
    for record, row in changed:
        held = mirror.get(row[5])
        if held != (Lifecycle.ACTIVE, row[0].lower(), row[1]):
            continue
        before = known.get(record["Id"])
        if before is not None and any(before[i] != row[i] for i in PERSON_ONLY):
            continue
        own.add(record["Id"])
    return own


def snapshot_rows(ids):
    """{Salesforce id: its snapshot's send-up fields (a tuple in `RecordSnapshot.SF_FIELDS`
    order, as `row_of` reads them off a record)} of the snapshots among `ids`. Plain SQL: after
    a large cycle the send-up reads back every record the sync wrote, and model instances cost
    more than the comparison. SQLite answers the favourite as 0 or 1, equal to False and True
    in the comparison."""
    fields = ["salesforce_id", *RecordSnapshot.SF_FIELDS]
    rows = bulk.select_by_keys(RecordSnapshot, fields, "salesforce_id", ids)
    return {row[0]: row[1:] for row in rows}


class UpdateToSalesWings(Step):
    name = "UpdateToSalesWings"
    class_name = "UpdateToSalesWings"

    def applies(self, options):
        return not options.disable_triggers

    def run(self, ctx):
        sf = clients.salesforce()
        sw = clients.saleswings()
        for obj in ("Lead", "Contact"):
            self.send_object(ctx, sf, sw, obj)

    def send_object(self, ctx, sf, sw, obj):
        cursor = f"sendup:{obj}"
        since = SyncCursor.get(cursor, None)
        baseline = since is None
        where = f"{PROSPECT_ID} != null"
        if since:
            where += f" AND SystemModstamp >= {soql_datetime(since)}"
        soql = (
            f"SELECT {soql_fields([*FIELDS, 'SystemModstamp'])} FROM {obj} "
            f"WHERE {where} ORDER BY SystemModstamp"
        )
        with ctx.fenced():
            start_noting(obj, since)
        newest = since
        owners = {}
        # Read ahead: the org answers the next page while this one is compared (after a large
        # cycle this reads back every record the sync wrote, ~100 pages at 100,000).
        for records in chunked(sf.query(soql, read_ahead=True), SEND_MAX):
            sent = False
            with ctx.batch() as batch:
                batch.examined += len(records)
                known = snapshot_rows([r["Id"] for r in records])
                changed = []
                for record in records:
                    row = tuple(row_of(record))
                    if known.get(record["Id"]) != row:
                        changed.append((record, row))
                own = own_writes(changed, known) if changed and not baseline else set()
                persons = [(r, row) for r, row in changed if r["Id"] not in own]
                if persons and not baseline:
                    self.owner_emails(sf, owners, {r.get("OwnerId") for r, _ in persons})
                    accepted = sw.send_changes(
                        [self.change(obj, record, owners) for record, _ in persons]
                    )
                    batch.modified += len(persons)
                    if accepted is not None and accepted < len(persons):
                        batch.record_failure(
                            f"The backend accepted {accepted} of {len(persons)} {obj} changes.",
                            count=len(persons) - accepted,
                        )
                # Sent (or, on the very first run, taken as the baseline): remember them, then
                # move the watermark, in one transaction.
                with ctx.fenced():
                    # Every record read, the sync's own writes included: the Clean steps
                    # need not read them again (steps/cleaning.py).
                    note_candidates(obj, records)
                    bulk.insert_columns(
                        RecordSnapshot,
                        SNAPSHOT_COLUMNS,
                        [[record["Id"], obj, *row] for record, row in changed],
                        unique=["salesforce_id"],
                        update=SNAPSHOT_COLUMNS[1:],
                    )
                    newest = max([newest or ""] + [r["SystemModstamp"] for r in records]) or None
                    if newest:
                        SyncCursor.put(cursor, newest)
                sent = True
            if not sent:
                # The watermark stays before this chunk: later chunks must not move it past
                # records that were not sent. They are read again next cycle.
                return
        if baseline and newest is None:
            # Nothing matched yet: start watching from now (a little earlier, for clock skew).
            start = timezone.now() - dt.timedelta(minutes=5)
            with ctx.fenced():
                SyncCursor.put(cursor, sf_datetime(start))

    def owner_emails(self, sf, owners, ids):
        missing = sorted(i for i in ids if i and i not in owners)
        if missing:
            for user in sf.query_in("SELECT Id, Email FROM User WHERE Id IN ({values})", missing):
                owners[user["Id"]] = user.get("Email")
            for i in missing:
                owners.setdefault(i, None)

    def change(self, obj, record, owners):
        return {
            "salesforceId": record["Id"],
            "object": obj,
            "email": record.get("Email"),
            "favorite": bool(record.get(FAVORITE)),
            "firstName": record.get("FirstName"),
            "lastName": record.get("LastName"),
            "ownerEmail": owners.get(record.get("OwnerId")),
            "prospectId": record.get(PROSPECT_ID),
        }
