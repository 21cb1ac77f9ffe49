"""MatchProspectsToLeads and MatchProspectsToContacts.

Per batch of `Not Processed` prospects: the batch's Leads (Contacts) by e-mail, then one
collection update per 200 records that really change (compared with what was read), then, with
activity sync on, an upsert of their new activities; and only after those writes the
prospects' statuses are committed. A crash repeats the batch; the compare makes that cheap.

Two ways to read the batch's records, chosen per step run by what they cost in API calls:
- IN mode: one chunked `Email IN (...)` query per batch (SOQL's URI limit holds ~400
  addresses a statement, so ~N/400 calls);
- scan mode: when that would cost more than reading the whole object (rows / 2,000 pages), the
  object is read once, page by page, and each page is matched as it comes: its e-mails' pending
  prospects are looked up by the e-mail index, the records that really change are written in
  whole collection calls of 200 (what does not fill a call waits for the next page), and each
  matched record's outcome is kept in a local table (`MatchScanHit`, on disk: memory stays
  bounded by a page and a call). A prospect's records may be on several pages, so its status
  is settled from that table once the whole object was read; a step that stops before that
  leaves every prospect pending (the next run's compare makes the repeat cheap).
Both modes compare and write the same way (`person_values`, `changes`).
"""

import datetime as dt
import math
from collections import defaultdict, namedtuple
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.db.models.expressions import RawSQL

from syncapp.engine import clients
from syncapp.engine.steps import Cancelled, StopStep
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    PersonStep,
    account,
    changes,
    chunked,
    describe_failure,
    execute_rows,
    insert_values,
    join_tags,
    keys_in,
    keyset,
    lock_prospect_statuses,
    person_score_fields,
    person_values,
    pg_rows,
    prospect_values,
    sf_datetime,
    soql_fields,
    tag_names,
    update_rows,
    update_where,
)
from syncapp.fastjson import loads
from syncapp.models import (
    Activity,
    Lifecycle,
    MatchScanHit,
    Prospect,
    RecordSnapshot,
    SyncStatus,
)
from syncapp.salesforce import COLLECTION_SIZE, SalesforceError

ACTIVITY_OBJECT = "SW_Activity__c"
ACTIVITY_KEY = "SW_Activity_Id__c"
QUERY_PAGE = 2000  # rows a query page returns (Salesforce's maximum batchSize)
# Below this many estimated IN-query calls a scan cannot win (it costs a COUNT plus at least
# one page), so the COUNT is not even asked.
SCAN_MIN_IN_CALLS = 3
# E-mails a prospect look-up of scan mode asks for at once (SQLite's historical limit of bound
# parameters is 999).
LOOKUP_CHUNK = 900
OTHER_SIDE = {"lead": "contact", "contact": "lead"}


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
        insert_values(
            RecordSnapshot,
            SNAPSHOT_COLUMNS,
            rows,
            unique_fields=["salesforce_id"],
            update_fields=list(attrs) or None,
        )


class MatchProspects(PersonStep):
    # Larger than the framework's 200: the e-mail IN-lists are cut by SOQL's length limit
    # (~400 addresses a query), so 1,000 prospects a batch fill its queries; the writes go
    # 200 a call whatever this is.
    default_batch_size = 1000
    activity_lookup = ""
    # Leads and Contacts are matched side by side (two async jobs, `PersonStep`): each side
    # writes only its own object and its own columns of the prospects, and the writes of
    # their statuses are serialized (`lock_prospect_statuses`). Each side is a lane: its
    # Clean step follows it as soon as it ends (steps/cleaning.py).

    def group(self, options):
        # With activity sync on, both sides upsert the same SW Activity records (one per
        # activity, linked to its Lead and to its Contact) by their external id: two upserts
        # of a new id at once can both try to create it (DUPLICATE_VALUE in Salesforce). So
        # then they run one after the other.
        return "" if options.activity_sync else self.parallel_group

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
        if self.choose_scan(sf, pending, soql, ctx.batch_size):
            self.run_scan(ctx, sf, fields, tags, score_fields)
        else:
            self.run_in(ctx, sf, soql, tags, score_fields, pending)

    # --- IN mode -----------------------------------------------------------------------------

    def run_in(self, ctx, sf, soql, tags, score_fields, pending):
        args = (soql, tags, score_fields)
        # Write-behind: a batch's collection calls go out on a worker thread while the next
        # batch is prepared (the org's time overlaps ours); each batch is finished (results
        # counted, statuses committed) in order, on this thread, once its write answered.
        # At most one write is in flight.
        behind = ThreadPoolExecutor(1, thread_name_prefix="sf-write-behind")
        inflight = None
        try:
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
                inflight = self.pipeline(ctx, sf, behind, inflight, prospects, args)
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

    def pipeline(self, ctx, sf, behind, inflight, prospects, args):
        """Prepare this batch, finish the one in flight, send this one's write.

        Returns the batch now in flight, or None.
        """
        batch = ctx.begin_batch()
        state = None
        with ctx.batch_part(batch, last=False):
            state = self.prepare(ctx, sf, batch, prospects, *args)
        if inflight:
            self.finish(ctx, sf, inflight)
        if batch.closed:
            return None
        future = behind.submit(sf.update, self.obj, state.updates) if state.updates else None
        current = (batch, state, future)
        if state.later:
            # A later batch reads records this one writes (two prospects, one e-mail): it
            # must see the write, so no overlap.
            self.finish(ctx, sf, current)
            return None
        return current

    def finish(self, ctx, sf, inflight):
        batch, state, future = inflight
        if batch.closed:
            return
        with ctx.batch_part(batch, last=True):
            results = future.result() if future else []
            self.commit(ctx, sf, batch, state, results)

    # --- choosing the mode ---------------------------------------------------------------------

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

    def prepare(self, ctx, sf, batch, prospects, soql, tags, score_fields):
        """Read and compare one batch (IN mode): what to write. Nothing is written here
        (see `commit`)."""
        batch.examined += len(prospects)
        # Two prospects with one e-mail would fight over the same records: the newest wins.
        owner = {}
        for p in sorted(prospects, key=lambda p: p.seq):
            owner[p.email_key] = p
        found = defaultdict(list)
        for record in sf.query_in(soql, sorted(owner)):
            key = (record.get("Email") or "").lower()
            if key in owner:
                found[key].append(record)

        updates, written = [], {}
        for key, prospect in owner.items():
            desired = prospect_values(prospect, tags, score_fields)
            for record in found.get(key, []):
                diff = changes(record, desired)
                if diff:
                    updates.append({"Id": record["Id"], **diff})
                    written[record["Id"]] = diff
        return SimpleNamespace(
            prospects=prospects,
            owner=owner,
            found=found,
            updates=updates,
            written=written,
            later=self.shared_later(prospects, ctx.options.max_sync_attempts),
        )

    def commit(self, ctx, sf, batch, state, results):
        """After the batch's write answered: count it, and only then commit the prospects'
        statuses (a crash before this repeats the batch; the compare makes that cheap)."""
        prospects, owner, found = state.prospects, state.owner, state.found
        outcome = account(batch, self.obj, state.updates, results)
        written = {rid: d for rid, d in state.written.items() if outcome.get(rid) is None}

        activity_errors, synced_activities = {}, []
        if ctx.options.activity_sync:
            # An older prospect with a newer one's e-mail still links its activities to the
            # e-mail's records.
            links = {}
            for p in prospects:
                mine = found.get(p.email_key) if owner.get(p.email_key) is not None else None
                links[p.pk] = min(r["Id"] for r in mine) if mine else None
            activity_errors, synced_activities = self.push_activities(sf, batch, links)

        max_attempts = ctx.options.max_sync_attempts
        with transaction.atomic():
            lock_prospect_statuses()
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
                    prospect.last_error = failure_message(errors, attempts, max_attempts)
                else:
                    setattr(prospect, f"{self.side}_pending", False)
            # `last_error` only where this side failed: the other side may have written its
            # own since these prospects were read (the steps run side by side).
            failed = [p for p in prospects if getattr(p, f"{self.side}_pending")]
            update_rows(
                [p for p in prospects if not getattr(p, f"{self.side}_pending")],
                [f"matched_{self.side}_ids", f"{self.side}_pending"],
            )
            update_rows(
                failed,
                [f"matched_{self.side}_ids", f"{self.side}_sync_attempts", "last_error"],
            )
            self.mark_processed(
                Prospect.objects.filter(pk__in=[p.pk for p in prospects]), synced_activities
            )
            refresh_snapshots(self.obj, records_of(found), written)

    def mark_processed(self, prospects, synced_activities):
        """Prospects (a queryset) done on both sides become Processed; their synced
        activities are marked."""
        prospects.filter(
            lead_pending=False,
            contact_pending=False,
            sync_status=SyncStatus.NOT_PROCESSED,
        ).update(sync_status=SyncStatus.PROCESSED, last_error="")
        if synced_activities:
            Activity.objects.filter(pk__in=synced_activities).update(
                **{f"{self.side}_synced": True}
            )

    # --- scan mode ---------------------------------------------------------------------------

    def run_scan(self, ctx, sf, fields, tags, score_fields):
        """Read the whole object page by page and match each page as it comes (see the
        module's docstring), then settle the prospects' statuses."""
        MatchScanHit.objects.filter(object=self.obj).delete()
        statement = (
            f"SELECT {soql_fields(fields)} FROM {self.obj} WHERE {self.condition}Email != null"
        )
        lookup = ProspectLookup(self.side, ctx.options.max_sync_attempts, tags)
        in_flight = settings.SALESFORCE_WRITE_CONCURRENCY
        behind = ThreadPoolExecutor(in_flight, thread_name_prefix="sf-write-behind")
        inflight = None
        waiting = []  # (update, prospect pk, record) not yet filling a whole call
        try:
            for page in chunked(sf.query(statement, read_ahead=True), QUERY_PAGE):
                with ctx.batch():
                    waiting += self.match_page(page, lookup, score_fields)
                cut = len(waiting) // COLLECTION_SIZE * COLLECTION_SIZE
                if cut:
                    unit, waiting = waiting[:cut], waiting[cut:]
                    inflight = self.send(ctx, sf, behind, in_flight, inflight, unit)
                ctx.check_cancelled()
            inflight = self.send(ctx, sf, behind, in_flight, inflight, waiting)
            waiting = []
            if inflight:
                current, inflight = inflight, None
                self.land(ctx, current)
            if ctx.entry["batches_failed"]:  # a page or a unit failed: not every record seen
                ctx.error(
                    f"{self.obj} statuses not settled: part of the scan failed (above), so "
                    "every prospect stays pending and the next cycle repeats the step (what "
                    "was written is not written again)."
                )
                return
            self.settle(ctx, sf)
        finally:
            try:
                if inflight:  # the step is ending early: what was written is still counted
                    with suppress(StopStep, Cancelled):
                        self.land(ctx, inflight)
            finally:
                behind.shutdown(wait=True, cancel_futures=True)
                MatchScanHit.objects.filter(object=self.obj).delete()

    def match_page(self, page, lookup, score_fields):
        """Match one page of records against their e-mails' pending prospects. Records already
        up to date are settled here (hits, snapshots); the others are returned as updates
        (update, prospect pk, record read) to be written."""
        keyed = [((r.get("Email") or "").lower(), r) for r in page]
        owners = lookup.owners({k for k, _ in keyed if k})
        if not owners:
            return []
        desired, matched, updates, hits = {}, [], [], []
        for key, record in keyed:
            prospect = owners.get(key)
            if prospect is None:
                continue
            want = desired.get(key)
            if want is None:
                want = desired[key] = person_values(
                    prospect.backend_id,
                    prospect.tags_text,
                    prospect.temperature,
                    prospect.last_visit_text,
                    prospect.favorite,
                    prospect.scores,
                    score_fields,
                )
            diff = changes(record, want)
            if diff:
                updates.append(({"Id": record["Id"], **diff}, prospect.pk, record))
            else:
                hits.append((self.obj, prospect.pk, record["Id"], "", False))
                matched.append(record)
        if hits:  # else no transaction: on SQLite even an empty one waits for the write lock
            with transaction.atomic():
                refresh_snapshots(self.obj, matched, {})
                insert_hits(hits)
        return updates

    def send(self, ctx, sf, behind, in_flight, inflight, unit):
        """Send a unit of whole collection calls on the write-behind threads, after landing
        the one in flight. Returns the unit now in flight, or None.

        A unit of several calls goes out in up to `in_flight` parts of whole calls, one per
        write-behind thread (`SALESFORCE_WRITE_CONCURRENCY`, 4 by default): the org's work on
        one overlaps the client's on another (~15% off a large cycle with two), and an org
        that takes long a call is waited for side by side (at 100 ms a call, four took a
        100,000 cycle from 35.5 to 22.9 s). Each record is in one part only (a scan reads a
        record once).
        """
        parts = []
        if unit:
            updates = [u for u, _, _ in unit]
            for start, end in call_parts(len(updates), in_flight):
                parts.append((start, behind.submit(sf.update, self.obj, updates[start:end])))
        if inflight:
            self.land(ctx, inflight)
        return (ctx.begin_batch(), unit, parts) if unit else None

    def land(self, ctx, inflight):
        """A unit's writes answered: count them, keep each record's outcome (hits) and the
        snapshots of what was written."""
        batch, unit, parts = inflight
        if batch.closed:
            return
        updates = [u for u, _, _ in unit]
        with ctx.batch_part(batch, last=True):
            results = [None] * len(updates)
            not_written = {}  # index of a record in a call that failed as a whole: why
            ends = [start for start, _ in parts[1:]] + [len(updates)]
            for (start, future), end in zip(parts, ends, strict=True):
                try:
                    answered = future.result()
                except StopStep:
                    raise
                except SalesforceError as exc:
                    # The calls before the failing one were written; the rest are not, and
                    # stay pending without counting as an attempt (the org did not judge
                    # them).
                    answered = list(getattr(exc, "partial_results", None) or [])
                    batch.record_failure(f"{self.obj}: {exc}", end - start - len(answered))
                    why = f"{self.obj}: not written ({exc})"[:2000]
                    not_written.update(dict.fromkeys(range(start + len(answered), end), why))
                results[start : start + len(answered)] = answered
            done = [i for i in range(len(updates)) if i not in not_written]
            outcome = account(
                batch, self.obj, [updates[i] for i in done], [results[i] for i in done]
            )
            hits, written = [], {}
            for index, (update, pk, _) in enumerate(unit):
                rid = update["Id"]
                if index in not_written:
                    hits.append((self.obj, pk, rid, not_written[index], False))
                    continue
                error = outcome.get(rid)
                hits.append((self.obj, pk, rid, error or "", bool(error)))
                if error is None:
                    written[rid] = update  # its "Id" is the record's own: harmless in a merge
            with transaction.atomic():
                insert_hits(hits)
                refresh_snapshots(self.obj, [record for _, _, record in unit], written)

    def settle(self, ctx, sf):
        """Every page was matched: each pending prospect takes its hits' outcome.

        Without activity sync, the prospects none of whose records failed (nearly all) are
        settled by one UPDATE that lists each one's records from the hits in SQL; the others
        one batch at a time, in Python. With activity sync on, every prospect is settled in
        batches by primary key (its activities are written then).
        """
        side, max_attempts = self.side, ctx.options.max_sync_attempts
        pending = Prospect.objects.pending_for(side, max_attempts)
        matched_ids = _MATCHED_IDS_SQL.get(connection.vendor)
        if not ctx.options.activity_sync and matched_ids:
            hits = MatchScanHit.objects.filter(object=self.obj)
            failing = hits.exclude(error="").values("prospect_pk")
            # A failure of one record holds its prospect back; the rest in one statement.
            for pks in chunked(sorted(set(failing.values_list("prospect_pk", flat=True))), 1000):
                ctx.check_cancelled()
                rows = list(
                    pending.filter(pk__in=pks)
                    .order_by("pk")
                    .values_list("pk", "email_key", f"{side}_sync_attempts")
                )
                if rows:
                    with ctx.batch() as batch:
                        batch.examined += len(rows)
                        self.settle_batch(ctx, sf, batch, rows, pks=[pk for pk, _, _ in rows])
            ctx.check_cancelled()
            table = connection.ops.quote_name(MatchScanHit._meta.db_table)
            outer = connection.ops.quote_name(Prospect._meta.db_table)
            # A prospect the other side is done with becomes Processed in the same statement
            # (`mark_processed`'s rule): one rewrite of each row, not two. The statuses' lock
            # is held, so the other side's settlement has committed or not begun.
            done = {f"{OTHER_SIDE[side]}_pending": False}
            with ctx.batch() as batch, transaction.atomic():
                lock_prospect_statuses()
                batch.examined += pending.exclude(pk__in=failing).update(
                    **{
                        f"{side}_pending": False,
                        f"matched_{side}_ids": RawSQL(
                            matched_ids.format(hits=table, prospect=outer), (self.obj,)
                        ),
                        "sync_status": Case(
                            When(**done, then=Value(SyncStatus.PROCESSED)),
                            default=F("sync_status"),
                            output_field=Prospect._meta.get_field("sync_status"),
                        ),
                        "last_error": Case(
                            When(**done, then=Value("")),
                            default=F("last_error"),
                            output_field=Prospect._meta.get_field("last_error"),
                        ),
                    }
                )
            return
        last = 0
        while True:
            ctx.check_cancelled()
            rows = list(
                pending.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "email_key", f"{side}_sync_attempts")[: ctx.batch_size]
            )
            if not rows:
                return
            with ctx.batch() as batch:
                batch.examined += len(rows)
                self.settle_batch(ctx, sf, batch, rows, last)
            last = rows[-1][0]

    def settle_batch(self, ctx, sf, batch, rows, after=None, pks=None):
        """Settle `rows` (pk, e-mail key, attempts): either every pending prospect with a
        primary key above `after` up to the last row's (a range, not a list of keys: the hits
        of that range are those of these rows, as only pending prospects have hits), or the
        prospects `pks`."""
        side, max_attempts = self.side, ctx.options.max_sync_attempts
        these = {"gt": after, "lte": rows[-1][0]} if pks is None else {"in": pks}
        ids, errors, attempted = defaultdict(list), defaultdict(list), set()
        for pk, rid, error, attempt in MatchScanHit.objects.filter(
            object=self.obj, **{f"prospect_pk__{op}": v for op, v in these.items()}
        ).values_list("prospect_pk", "record_id", "error", "attempt"):
            ids[pk].append(rid)
            if error:
                errors[pk].append(error)
                if attempt:
                    attempted.add(pk)
        activity_errors, synced_activities = {}, []
        if ctx.options.activity_sync:
            activity_errors, synced_activities = self.push_activities(
                sf, batch, self.activity_links(rows, ids)
            )
        done, failed = [], []
        for pk, _, attempts in rows:
            matched = sorted(ids.get(pk, ()))
            mine = errors.get(pk, []) + activity_errors.get(pk, [])
            if not mine:
                done.append([matched, pk])
                continue
            if pk in attempted or pk in activity_errors:
                attempts += 1
            failed.append([matched, attempts, failure_message(mine, attempts, max_attempts), pk])
        with transaction.atomic():
            lock_prospect_statuses()
            update_where(Prospect, [f"matched_{side}_ids", f"{side}_pending"], "id", [
                [matched, False, pk] for matched, pk in done
            ])  # fmt: skip
            update_where(
                Prospect,
                [f"matched_{side}_ids", f"{side}_sync_attempts", "last_error"],
                "id",
                failed,
            )
            self.mark_processed(
                Prospect.objects.filter(**{f"pk__{op}": v for op, v in these.items()}),
                synced_activities,
            )

    def activity_links(self, rows, ids):
        """The record each prospect's activities link to: its first matched record; for an
        older prospect whose e-mail a newer one has, the newer one's (as in IN mode)."""
        links = {pk: min(ids[pk]) if ids.get(pk) else None for pk, _, _ in rows}
        orphans = {key: pk for pk, key, _ in rows if links[pk] is None}
        if orphans:
            # The hits of the other prospects with these e-mails (the hits table is not
            # indexed by e-mail: that index cost more than half of every hit's insert).
            keys = dict(
                Prospect.objects.filter(email_key__in=list(orphans)).values_list("pk", "email_key")
            )
            for owner, rid in MatchScanHit.objects.filter(
                object=self.obj, prospect_pk__in=list(keys)
            ).values_list("prospect_pk", "record_id"):
                pk = orphans[keys[owner]]
                links[pk] = rid if links[pk] is None else min(links[pk], rid)
        return links

    # --- activities --------------------------------------------------------------------------

    def push_activities(self, sf, batch, links):
        """Upsert the new activities of the prospects in `links` (prospect pk: the record id
        to link them to, or None: nothing to link, nothing to write) as SW Activity records."""
        flag = f"{self.side}_synced"
        # Values, not model instances: an instance each, with its prospect's (tags and scores
        # decoded from JSON), cost most of a 100,000 cycle's Match steps with activity sync on.
        activities = Activity.objects.filter(
            prospect_id__in=list(links), **{flag: False}
        ).values_list(
            "pk", "prospect_id", "backend_id", "prospect__backend_id", "type", "occurred_at",
            "url", "title",
        )  # fmt: skip
        errors, synced, rows, row_activity = defaultdict(list), [], [], []
        for pk, prospect_pk, backend_id, prospect_id, kind, occurred, url, title in activities:
            rid = links.get(prospect_pk)
            if rid is None:
                synced.append(pk)  # no record to link it to: nothing to write
                continue
            rows.append(
                {
                    ACTIVITY_KEY: backend_id,
                    "SW_Prospect_Id__c": prospect_id,
                    self.activity_lookup: rid,
                    "Type__c": kind,
                    "Occurred_At__c": sf_datetime(occurred),
                    "URL__c": url or None,
                    "Title__c": title or None,
                }
            )
            row_activity.append((pk, prospect_pk, backend_id))
        if rows:
            results = upsert_in_parts(sf, ACTIVITY_OBJECT, ACTIVITY_KEY, rows)
            for (pk, prospect_pk, backend_id), result in zip(row_activity, results, strict=True):
                if result.success:
                    batch.modified += 1
                    synced.append(pk)
                else:
                    message = f"SW Activity {backend_id}: {describe_failure(result)}"
                    batch.record_failure(message)
                    errors[prospect_pk].append(message)
        return errors, synced


# A prospect's matched records as a JSON list, from the scan's hits, in SQL: {hits} is the
# hits table, {prospect} the prospect table being updated; one parameter, the object.
_MATCHED_IDS_SQL = {
    "sqlite": (
        "SELECT json_group_array(h.record_id) FROM (SELECT record_id FROM {hits} "
        "WHERE object = %s AND prospect_pk = {prospect}.id ORDER BY record_id) h"
    ),
    "postgresql": (
        "SELECT COALESCE(jsonb_agg(record_id ORDER BY record_id), '[]'::jsonb) FROM {hits} "
        "WHERE object = %s AND prospect_pk = {prospect}.id"
    ),
}


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


def upsert_in_parts(sf, obj, key, rows):
    """`sf.upsert(obj, key, rows)`, its collection calls sent in up to
    `SALESFORCE_WRITE_CONCURRENCY` parts side by side (as the Match steps' updates are): the
    org works on one while the client waits for another (with activity sync on, a 100,000 cycle
    upserts ~400,000 SW Activity records, docs/benchmarks.md). Every part is waited for; a part
    that failed as a whole fails the call as one `sf.upsert` would (the upserts are idempotent:
    what the other parts wrote is written again, unchanged, next time)."""
    parts = call_parts(len(rows), settings.SALESFORCE_WRITE_CONCURRENCY)
    if len(parts) <= 1:
        return sf.upsert(obj, key, rows)
    with ThreadPoolExecutor(len(parts), thread_name_prefix="sf-upsert") as pool:
        futures = [pool.submit(sf.upsert, obj, key, rows[start:end]) for start, end in parts]
    results = []
    for future in futures:
        results += future.result()  # the first failure, in the records' order, is raised
    return results


def failure_message(errors, attempts, max_attempts):
    message = "; ".join(errors)
    if attempts >= max_attempts:
        message += f" (given up after {attempts} attempts; a Full Synchronization tries again)"
    return message[:2000]


def insert_hits(hits):
    if not hits:
        return
    meta, qn = MatchScanHit._meta, connection.ops.quote_name
    fields = [meta.get_field(n) for n in ("object", "prospect_pk", "record_id", "error", "attempt")]
    head = "INSERT INTO {} ({})".format(qn(meta.db_table), ", ".join(qn(f.column) for f in fields))
    pg = None
    if connection.vendor == "postgresql":
        pg = f"{head} SELECT * FROM {pg_rows(fields)} AS v"
    with connection.cursor() as cursor:
        execute_rows(cursor, f"{head} VALUES (%s, %s, %s, %s, %s)", hits, pg)


# What scan mode's comparison needs of a prospect (`person_values`), read without model
# instances: its tags joined into names, its last visit as Salesforce takes it.
LookedUp = namedtuple(
    "LookedUp",
    "pk backend_id seq email_key tags_text scores temperature last_visit_text favorite",
)


class ProspectLookup:
    """Scan mode's look-up of the pending prospects of a page's e-mails, by the e-mail index.

    The pending conditions are checked here, not in SQL: filtered there, SQLite walks the
    (sync_status, lifecycle) index over every pending prospect instead (see
    `ProspectQuerySet.pending_emails`). Values are read with one plain SELECT and converted
    here (JSON text or already decoded, naive UTC text or aware date-times), not through
    model instances.
    """

    def __init__(self, side, max_attempts, tags_by_id):
        self.max_attempts = max_attempts
        self.tags_by_id = tags_by_id
        self.tags = {}  # a tag list's JSON text: the names joined (few lists, many prospects)
        meta = Prospect._meta
        qn = connection.ops.quote_name
        columns = [
            qn(meta.get_field(c).column)
            for c in (
                "id", "backend_id", "seq", "email_key", "tags", "scores", "temperature",
                "last_visit", "favorite", "lifecycle", "sync_status", f"{side}_pending",
                f"{side}_sync_attempts",
            )
        ]  # fmt: skip
        # The last visit is read as text, not parsed by the driver into a datetime (in Python,
        # per row) only to be formatted again here: SQLite's text is rewritten (`_sf_text`);
        # PostgreSQL spells it as Salesforce takes it (`sf_datetime`: UTC, milliseconds
        # truncated, as to_char's MS does).
        self.visit_text = _sf_text
        if connection.vendor == "sqlite":
            columns[7] = f"CAST({columns[7]} AS TEXT)"
        elif connection.vendor == "postgresql":
            columns[7] = (
                f"to_char({columns[7]} AT TIME ZONE 'UTC', "
                """'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')"""
            )
            self.visit_text = None
        self.sql = "SELECT {} FROM {} WHERE ".format(", ".join(columns), qn(meta.db_table))
        self.key_column = qn(meta.get_field("email_key").column)
        # PostgreSQL takes a page's keys at once, as one parameter (`keys_in`); psycopg builds
        # an array parameter in Python, value by value. Elsewhere IN lists of LOOKUP_CHUNK.
        self.chunk = None if connection.vendor == "postgresql" else LOOKUP_CHUNK

    def statements(self, keys):
        """(SQL, parameters) of the look-up of `keys`."""
        chunk = self.chunk or len(keys) or 1
        for start in range(0, len(keys), chunk):
            where, params = keys_in(self.key_column, keys[start : start + chunk])
            yield self.sql + where, params

    def owners(self, keys):
        """{e-mail key: its pending prospect} (the newest by `seq` where several have it)."""
        rows = {}
        keys = sorted(keys)
        visit_text = self.visit_text
        with connection.cursor() as cursor:
            for sql, params in self.statements(keys):
                cursor.execute(sql, params)
                for row in cursor.fetchall():
                    key, seq = row[3], row[2]
                    lifecycle, status, pending, attempts = row[9:]
                    if not (
                        key
                        and lifecycle == Lifecycle.ACTIVE
                        and status == SyncStatus.NOT_PROCESSED
                        and pending
                        and attempts < self.max_attempts
                    ):
                        continue
                    kept = rows.get(key)
                    if kept is None or kept[2] <= seq:
                        rows[key] = row
        return {
            key: LookedUp(
                row[0],
                row[1],
                row[2],
                key,
                self.tags_text(row[4]),
                _json(row[5]),
                row[6],
                row[7] if visit_text is None else visit_text(row[7]),
                row[8],
            )  # fmt: skip
            for key, row in rows.items()
        }

    def tags_text(self, value):
        text = self.tags.get(value) if isinstance(value, str) else None
        if text is None:
            text = join_tags(self.tags_by_id.get(t) for t in _json(value))
            if isinstance(value, str):
                if len(self.tags) >= 4096:  # bounded memory
                    self.tags.clear()
                self.tags[value] = text
        return text


def _json(value):
    return loads(value) if isinstance(value, str | bytes) else value


def _sf_text(value):
    """`sf_datetime` of a last visit as the look-up read it. SQLite's text of an aware value
    is its naive UTC time, `YYYY-MM-DD HH:MM:SS[.ffffff]` (Django's adapter): rewritten as
    Salesforce takes it without a datetime in between (milliseconds truncated, as
    `isoformat` does). Anything else goes through `sf_datetime`."""
    if isinstance(value, str) and value[10:11] == " " and value[19:20] in ("", "."):
        if len(value) == 19:
            return f"{value[:10]}T{value[11:19]}.000+00:00"
        if len(value) == 26:
            return f"{value[:10]}T{value[11:19]}.{value[20:23]}+00:00"
    return sf_datetime(_aware(value))


def _aware(value):
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


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
