"""MatchProspectsToLeads and MatchProspectsToContacts.

Per batch of `Not Processed` prospects: the batch's Leads (Contacts) by e-mail, then one
collection update per 200 records that really change (compared with what was read), then, with
activity sync on, an upsert of their new activities; and only after those writes the
prospects' statuses are committed. A crash repeats the batch; the compare makes that cheap.

Two ways to read the batch's records, chosen per step run by what they cost in API calls:
- IN mode: one chunked `Email IN (...)` query per batch (SOQL's URI limit holds ~400
  addresses a statement, so ~N/400 calls);
- scan mode: when that would cost more than reading the whole object (rows / 2,000 pages), the
  object is read once, page by page, and the records whose e-mail is pending are kept in a
  local table (`MatchScanRecord`, on disk: memory stays bounded by a page and a batch); each
  batch is then joined against that table. Both modes feed the same matching code.
"""

import math
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction

from syncapp.engine import clients
from syncapp.engine.steps import Cancelled, Step, StopStep
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    account,
    changes,
    chunked,
    describe_failure,
    insert_rows,
    keyset,
    person_score_fields,
    prospect_values,
    sf_datetime,
    soql_fields,
    tag_names,
    update_rows,
    update_where,
)
from syncapp.models import Activity, MatchScanRecord, Prospect, RecordSnapshot, SyncStatus
from syncapp.salesforce import COLLECTION_SIZE

ACTIVITY_OBJECT = "SW_Activity__c"
ACTIVITY_KEY = "SW_Activity_Id__c"
QUERY_PAGE = 2000  # rows a query page returns (Salesforce's maximum batchSize)
# Below this many estimated IN-query calls a scan cannot win (it costs a COUNT plus at least
# one page), so the COUNT is not even asked.
SCAN_MIN_IN_CALLS = 3


def refresh_snapshots(obj, records, written):
    """Keep the send-up's snapshot in step with what the sync itself wrote.

    `written` maps record id to the fields written. A record the sync did not write keeps
    its snapshot (a user's change not yet sent up must still be noticed); a record never seen
    gets one, so it is only sent up when it changes later.
    """
    insert_rows(
        RecordSnapshot,
        [
            {
                "salesforce_id": r["Id"],
                "object": obj,
                **RecordSnapshot.values_of(r | (written.get(r["Id"]) or {})),
            }
            for r in records
        ],
        unique_fields=["salesforce_id"],
    )
    # Known records the sync wrote: their snapshot takes what was written (for a row just
    # inserted above this writes the same values again). Grouped by which snapshot fields the
    # write touched, one prepared UPDATE each.
    by_fields = defaultdict(list)
    for rid, diff in written.items():
        attrs = tuple(a for a, f in RecordSnapshot.SF_FIELDS.items() if f in diff)
        if attrs:
            values = RecordSnapshot.values_of(diff | {"Id": ""})
            by_fields[attrs].append([values[a] for a in attrs] + [rid])
    for attrs, rows in by_fields.items():
        update_where(RecordSnapshot, attrs, "salesforce_id", rows)


class MatchProspects(Step):
    # Larger than the framework's 200: the e-mail IN-lists are cut by SOQL's length limit
    # (~400 addresses a query), so 1,000 prospects a batch fill its queries; the writes go
    # 200 a call whatever this is.
    default_batch_size = 1000
    obj = ""
    side = ""
    condition = ""
    activity_lookup = ""

    def run(self, ctx):
        sf = clients.salesforce()
        tags = tag_names()
        score_fields = person_score_fields(self.obj)
        fields = ["Id", "Email", "FirstName", "LastName", "OwnerId", *PERSON_FIELDS]
        fields += list(score_fields.values())
        soql = (
            f"SELECT {soql_fields(fields)} FROM {self.obj} "
            f"WHERE {self.condition}Email IN ({{values}})"
        )
        pending = Prospect.objects.pending_for(self.side, ctx.options.max_sync_attempts)
        scan = self.choose_scan(sf, pending, soql, ctx.batch_size)
        args = (soql, tags, score_fields, pending, scan)
        # Write-behind: a batch's collection calls go out on a worker thread while the next
        # batch is prepared (the org's time overlaps ours); each batch is finished (results
        # counted, statuses committed) in order, on this thread, once its write answered.
        # At most one write is in flight.
        behind = ThreadPoolExecutor(1, thread_name_prefix="sf-write-behind")
        inflight = None
        try:
            if scan:
                self.stage(sf, ctx.options.max_sync_attempts, fields)
            carry = []
            # Only what matching reads or saves: no model field conversion for the rest.
            loaded = pending.only(
                "backend_id",
                "seq",
                "email_key",
                "tags",
                "scores",
                "temperature",
                "last_visit",
                "favorite",
                "last_error",
                f"{self.side}_pending",
                f"{self.side}_sync_attempts",
            )
            for prospects in keyset(loaded, ctx.batch_size):
                # A batch that fails before its write drops its carry: those prospects
                # simply stay pending.
                carried, carry = carry, []
                inflight, carry = self.pipeline(
                    ctx, sf, behind, inflight, prospects, args, carried, flush=False
                )
            if carry:
                inflight, _ = self.pipeline(ctx, sf, behind, inflight, [], args, carry, flush=True)
            if inflight:
                current, inflight = inflight, None
                self.finish(ctx, sf, current)
        finally:
            try:
                if inflight:  # the step is ending early: what was written is still recorded
                    with suppress(StopStep, Cancelled):
                        self.finish(ctx, sf, inflight)
            finally:
                behind.shutdown(wait=True, cancel_futures=True)
                if scan:
                    MatchScanRecord.objects.filter(object=self.obj).delete()

    def pipeline(self, ctx, sf, behind, inflight, prospects, args, carried, *, flush):
        """Prepare this batch, finish the one in flight, send this one's write.

        Returns (the batch now in flight or None, the prospects carried to the next batch).
        """
        batch = ctx.begin_batch()
        state = None
        with ctx.batch_part(batch, last=False):
            state = self.prepare(ctx, sf, batch, prospects, *args, carried=carried, flush=flush)
        if inflight:
            self.finish(ctx, sf, inflight)
        if batch.closed:
            return None, []
        future = behind.submit(sf.update, self.obj, state.updates) if state.updates else None
        current = (batch, state, future)
        if state.later or flush:
            # A later batch reads records this one writes (two prospects, one e-mail): it
            # must see the write (and, in scan mode, the table restaged), so no overlap.
            self.finish(ctx, sf, current)
            return None, state.carry
        return current, state.carry

    def finish(self, ctx, sf, inflight):
        batch, state, future = inflight
        if batch.closed:
            return
        with ctx.batch_part(batch, last=True):
            results = future.result() if future else []
            self.commit(ctx, sf, batch, state, results)

    # --- IN mode or scan mode --------------------------------------------------------------

    def choose_scan(self, sf, pending, soql, batch_size):
        """Scan when reading the whole object costs fewer calls than the batches' IN queries.

        The IN cost is estimated from the first batch's e-mails (the client's own chunking)
        times the number of batches; the scan's is the object's rows (a COUNT, asked only when
        a scan could win) over 2,000-row pages.
        """
        mode = getattr(settings, "SWSTUDIO_MATCH_READ", "auto")
        if mode != "auto":
            return mode == "scan"
        total = pending.count()
        if not total:
            return False
        sample = list(pending.order_by("pk").values_list("email_key", flat=True)[:batch_size])
        per_batch = sf.in_statements(soql, sample)
        full, rest = divmod(total, len(sample))
        in_calls = full * per_batch + (math.ceil(per_batch * rest / len(sample)) if rest else 0)
        if in_calls < SCAN_MIN_IN_CALLS:
            return False
        rows = sf.count(f"SELECT COUNT() FROM {self.obj} WHERE {self.condition}Email != null")
        scan_calls = max(1, math.ceil(rows / QUERY_PAGE))
        return scan_calls < in_calls

    def stage(self, sf, max_attempts, fields):
        """Read the object once, keeping the records whose e-mail a pending prospect has."""
        MatchScanRecord.objects.filter(object=self.obj).delete()
        statement = (
            f"SELECT {soql_fields(fields)} FROM {self.obj} WHERE {self.condition}Email != null"
        )
        for page in chunked(sf.query(statement, read_ahead=True), QUERY_PAGE):
            keyed = [((r.get("Email") or "").lower(), r) for r in page]
            wanted = Prospect.objects.pending_emails(
                self.side, max_attempts, {k for k, _ in keyed if k}
            )
            insert_rows(
                MatchScanRecord,
                [
                    {"object": self.obj, "email_key": key, "record": record}
                    for key, record in keyed
                    if key in wanted
                ],
            )

    def read(self, sf, soql, keys, scan):
        """The records of the batch's e-mails: by IN queries, or from the scan's table
        ({record id: (row pk, e-mail key, record)} for `restage`)."""
        if not scan:
            return list(sf.query_in(soql, keys)), {}
        staged = (
            MatchScanRecord.objects.filter(object=self.obj, email_key__in=keys)
            .order_by("pk")
            .values_list("pk", "email_key", "record")
        )
        staged = {record["Id"]: (pk, key, record) for pk, key, record in staged}
        return [record for _, _, record in staged.values()], staged

    def shared_later(self, prospects, max_attempts):
        """The e-mails of this batch that a later batch's prospect also has (rare: two
        prospects, one e-mail): a later batch reads the records this one writes."""
        if not prospects:
            return set()
        return Prospect.objects.pending_emails(
            self.side,
            max_attempts,
            {p.email_key for p in prospects},
            after=max(p.pk for p in prospects),
        )

    def restage(self, staged, written, later):
        """Scan mode: the read is not repeated, so the table must show what this batch wrote
        for the e-mails a later batch's prospect also has."""
        if not staged or not written or not later:
            return
        for rid, diff in written.items():
            row = staged.get(rid)
            if row is not None and row[1] in later:
                MatchScanRecord.objects.filter(pk=row[0]).update(record=row[2] | diff)

    def prepare(
        self,
        ctx,
        sf,
        batch,
        prospects,
        soql,
        tags,
        score_fields,
        pending,
        scan=False,
        carried=(),
        flush=False,
    ):
        """Read and compare one batch: what to write, and the prospects carried to the next
        batch (scan mode). Nothing is written here (see `commit`).

        In scan mode a batch writes whole collection calls only: the prospects whose updates
        would fall in the last, partial call of 200 are carried (their records are read again
        from the scan's table, for free) and written with the next batch's, so a large cycle
        spends ~writes / 200 calls rather than one partial call more per batch.
        """
        prospects = [*carried, *prospects]
        batch.examined += len(prospects)
        # Two prospects with one e-mail would fight over the same records: the newest wins.
        owner = {}
        for p in sorted(prospects, key=lambda p: p.seq):
            owner[p.email_key] = p
        found = defaultdict(list)
        records, staged = self.read(sf, soql, sorted(owner), scan)
        for record in records:
            key = (record.get("Email") or "").lower()
            if key in owner:
                found[key].append(record)

        updates, written, update_owner = [], {}, []
        for key, prospect in owner.items():
            desired = prospect_values(prospect, tags, score_fields)
            for record in found.get(key, []):
                diff = changes(record, desired)
                if diff:
                    updates.append({"Id": record["Id"], **diff})
                    written[record["Id"]] = diff
                    update_owner.append(prospect)
        carry = []
        cut = len(updates) // COLLECTION_SIZE * COLLECTION_SIZE
        if scan and not flush and cut < len(updates):
            later = {id(p) for p in update_owner[cut:]}
            carry = [p for p in prospects if id(p) in later]
            prospects = [p for p in prospects if id(p) not in later]
            keep = [id(p) not in later for p in update_owner]
            updates = [u for u, k in zip(updates, keep, strict=True) if k]
            written = {u["Id"]: written[u["Id"]] for u in updates}
            batch.examined -= len(carry)  # counted again by the batch that writes them
            for p in carry:
                found.pop(p.email_key, None)
        return SimpleNamespace(
            prospects=prospects,
            owner=owner,
            found=found,
            updates=updates,
            written=written,
            staged=staged,
            carry=carry,
            later=self.shared_later(prospects, ctx.options.max_sync_attempts),
        )

    def commit(self, ctx, sf, batch, state, results):
        """After the batch's write answered: count it, and only then commit the prospects'
        statuses (a crash before this repeats the batch; the compare makes that cheap)."""
        prospects, owner, found = state.prospects, state.owner, state.found
        outcome = account(batch, self.obj, state.updates, results)
        written = {rid: d for rid, d in state.written.items() if outcome.get(rid) is None}
        self.restage(state.staged, written, state.later)

        activity_errors, synced_activities = {}, []
        if ctx.options.activity_sync:
            activity_errors, synced_activities = self.push_activities(
                sf, batch, prospects, owner, found
            )

        max_attempts = ctx.options.max_sync_attempts
        with transaction.atomic():
            for prospect in prospects:
                mine = (
                    found.get(prospect.email_key, [])
                    if owner.get(prospect.email_key) is prospect
                    else []
                )
                ids = sorted(r["Id"] for r in mine)
                setattr(prospect, f"matched_{self.side}_ids", ids)
                errors = [outcome[i] for i in ids if outcome.get(i)]
                errors += activity_errors.get(prospect.pk, [])
                if owner.get(prospect.email_key) is not prospect:
                    errors = []  # its e-mail belongs to a newer prospect: nothing to write
                if errors:
                    attempts = getattr(prospect, f"{self.side}_sync_attempts") + 1
                    setattr(prospect, f"{self.side}_sync_attempts", attempts)
                    message = "; ".join(errors)
                    if attempts >= max_attempts:
                        message += (
                            f" (given up after {attempts} attempts; a Full Synchronization "
                            "tries again)"
                        )
                    prospect.last_error = message[:2000]
                else:
                    setattr(prospect, f"{self.side}_pending", False)
            update_rows(
                prospects,
                [
                    f"matched_{self.side}_ids",
                    f"{self.side}_sync_attempts",
                    f"{self.side}_pending",
                    "last_error",
                ],
            )
            Prospect.objects.filter(
                pk__in=[p.pk for p in prospects],
                lead_pending=False,
                contact_pending=False,
                sync_status=SyncStatus.NOT_PROCESSED,
            ).update(sync_status=SyncStatus.PROCESSED, last_error="")
            if synced_activities:
                Activity.objects.filter(pk__in=synced_activities).update(
                    **{f"{self.side}_synced": True}
                )
            refresh_snapshots(self.obj, records_of(found), written)

    def push_activities(self, sf, batch, prospects, owner, found):
        """Upsert the batch's new activities as SW Activity records linked to the record."""
        flag = f"{self.side}_synced"
        activities = list(
            Activity.objects.filter(prospect__in=prospects, **{flag: False}).select_related(
                "prospect"
            )
        )
        errors, synced, rows, row_activity = defaultdict(list), [], [], []
        for activity in activities:
            prospect = activity.prospect
            mine = found.get(prospect.email_key, [])
            if owner.get(prospect.email_key) is None or not mine:
                synced.append(activity.pk)  # no record to link it to: nothing to write
                continue
            rows.append(
                {
                    ACTIVITY_KEY: activity.backend_id,
                    "SW_Prospect_Id__c": prospect.backend_id,
                    self.activity_lookup: min(r["Id"] for r in mine),
                    "Type__c": activity.type,
                    "Occurred_At__c": sf_datetime(activity.occurred_at),
                    "URL__c": activity.url or None,
                    "Title__c": activity.title or None,
                }
            )
            row_activity.append(activity)
        if rows:
            results = sf.upsert(ACTIVITY_OBJECT, ACTIVITY_KEY, rows)
            for activity, result in zip(row_activity, results, strict=True):
                if result.success:
                    batch.modified += 1
                    synced.append(activity.pk)
                else:
                    message = f"SW Activity {activity.backend_id}: {describe_failure(result)}"
                    batch.record_failure(message)
                    errors[activity.prospect_id].append(message)
        return errors, synced


def records_of(found):
    return [r for records in found.values() for r in records]


class MatchProspectsToLeads(MatchProspects):
    name = "MatchProspectsToLeads"
    obj = "Lead"
    side = "lead"
    # Converted Leads are never written.
    condition = "IsConverted = false AND "
    activity_lookup = "Lead__c"


class MatchProspectsToContacts(MatchProspects):
    name = "MatchProspectsToContacts"
    obj = "Contact"
    side = "contact"
    condition = ""
    activity_lookup = "Contact__c"
