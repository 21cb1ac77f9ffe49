"""Scan mode of the Match steps: the object is read once, page by page, and each page is
matched as it comes (see the package's docstring); the prospects' statuses are settled from
the scan's hits (`MatchScanHit`) once the whole object was read."""

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import NamedTuple

from django.conf import settings

from syncapp import bulk
from syncapp.engine.steps import Cancelled, StopStep
from syncapp.engine.steps.common import account, changes, chunked, person_values, soql_fields
from syncapp.engine.steps.matching import sql
from syncapp.engine.steps.matching.activities import ActivityOutcome, push_activities
from syncapp.engine.steps.matching.lookup import ProspectLookup
from syncapp.engine.steps.matching.writes import (
    Hit,
    call_parts,
    failure_message,
    insert_hits,
    mark_processed,
    refresh_snapshots,
)
from syncapp.models import Lifecycle, MatchScanHit, Prospect
from syncapp.models.mirror import NotWritten, Written
from syncapp.salesforce import COLLECTION_SIZE, SalesforceError

QUERY_PAGE = 2000  # rows a query page returns (Salesforce's maximum batchSize)
# Prospects settled at once in Python (those with a failed record) when the rest are settled
# by one statement.
SETTLE_CHUNK = 1000
NO_ACTIVITIES = ActivityOutcome({}, [])


class Update(NamedTuple):
    """A matched record's write, waiting to be sent or in flight."""

    changes: dict  # the fields that really change, with the record's "Id"
    prospect_pk: int
    record: dict  # as read


class Part(NamedTuple):
    """One write-behind thread's share of a unit: `Update`s from `start` on."""

    start: int
    future: Future


class UnitInFlight(NamedTuple):
    """Whole collection calls sent together, not landed yet."""

    batch: object
    updates: list  # `Update`s
    parts: list  # `Part`s


class Settling(NamedTuple):
    """A pending prospect being settled."""

    pk: int
    email_key: str
    attempts: int  # this side's, so far


class ScanMode:
    """One run of a Match step in scan mode (`run`)."""

    def __init__(self, step, ctx, sf, score_fields):
        self.ctx, self.sf = ctx, sf
        self.obj, self.side, self.lookup_field = step.obj, step.side, step.activity_lookup
        self.condition = step.condition
        self.score_fields = score_fields

    def run(self, fields, tags):
        """Read the whole object page by page and match each page as it comes, then settle
        the prospects' statuses."""
        ctx, sf = self.ctx, self.sf
        with ctx.fenced():
            MatchScanHit.objects.filter(object=self.obj).delete()
        statement = (
            f"SELECT {soql_fields(fields)} FROM {self.obj} WHERE {self.condition}Email != null"
        )
        lookup = ProspectLookup(self.side, ctx.options.max_sync_attempts, tags)
        threads = settings.SALESFORCE_WRITE_CONCURRENCY
        behind = ThreadPoolExecutor(threads, thread_name_prefix="sf-write-behind")
        in_flight = None
        waiting = []  # `Update`s not yet filling a whole call
        try:
            for page in chunked(sf.query(statement, read_ahead=True), QUERY_PAGE):
                with ctx.batch():
                    waiting += self.match_page(page, lookup)
                cut = len(waiting) // COLLECTION_SIZE * COLLECTION_SIZE
                if cut:
                    unit, waiting = waiting[:cut], waiting[cut:]
                    in_flight = self.send(behind, threads, in_flight, unit)
                ctx.check_cancelled()
            in_flight = self.send(behind, threads, in_flight, waiting)
            waiting = []
            if in_flight:
                current, in_flight = in_flight, None
                self.land(current)
            if ctx.entry["batches_failed"]:  # a page or a unit failed: not every record seen
                ctx.error(
                    f"{self.obj} statuses not settled: part of the scan failed (above), so "
                    "every prospect stays pending and the next cycle repeats the step (what "
                    "was written is not written again)."
                )
                return
            self.settle()
        finally:
            try:
                if in_flight:  # the step is ending early: what was written is still counted
                    with suppress(StopStep, Cancelled):
                        self.land(in_flight)
            finally:
                behind.shutdown(wait=True, cancel_futures=True)
                # Fenced: once its job ended, the hits may be a newer cycle's Match step's.
                with suppress(Cancelled), ctx.fenced():
                    MatchScanHit.objects.filter(object=self.obj).delete()

    def match_page(self, page, lookup):
        """Match one page of records against their e-mails' pending prospects. Records already
        up to date are settled here (hits, snapshots); the others are returned as `Update`s to
        be written."""
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
                    self.score_fields,
                )
            diff = changes(record, want)
            if diff:
                updates.append(Update({"Id": record["Id"], **diff}, prospect.pk, record))
            else:
                hits.append(Hit(self.obj, prospect.pk, record["Id"]))
                matched.append(record)
        if hits:  # else no transaction: on SQLite even an empty one waits for the write lock
            with self.ctx.fenced():
                refresh_snapshots(self.obj, matched, {})
                insert_hits(hits)
        return updates

    def send(self, behind, threads, in_flight, unit):
        """Send `unit` (`Update`s of whole collection calls) on the write-behind threads,
        after landing the unit in flight. Returns the unit now in flight, or None.

        A unit of several calls goes out in up to `threads` parts of whole calls, one per
        write-behind thread (`SALESFORCE_WRITE_CONCURRENCY`): the org's work on one overlaps
        the client's on another, and an org that takes long a call is waited for side by
        side. Each record is in one part only (a scan reads a record once).
        """
        parts = []
        if unit:
            changed = [u.changes for u in unit]
            for start, end in call_parts(len(changed), threads):
                future = behind.submit(self.sf.update, self.obj, changed[start:end])
                parts.append(Part(start, future))
        if in_flight:
            self.land(in_flight)
        return UnitInFlight(self.ctx.begin_batch(), unit, parts) if unit else None

    def land(self, in_flight):
        """A unit's writes answered: count them, keep each record's outcome (hits) and the
        snapshots of what was written."""
        batch, unit, parts = in_flight
        if batch.closed:
            return
        changed = [u.changes for u in unit]
        with self.ctx.batch_part(batch, last=True):
            results = [None] * len(changed)
            not_written = {}  # index of a record in a call that failed as a whole: why
            ends = [part.start for part in parts[1:]] + [len(changed)]
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
            done = [i for i in range(len(changed)) if i not in not_written]
            outcome = account(
                batch, self.obj, [changed[i] for i in done], [results[i] for i in done]
            )
            hits, written = [], {}
            for index, update in enumerate(unit):
                rid = update.changes["Id"]
                if index in not_written:
                    hits.append(Hit(self.obj, update.prospect_pk, rid, not_written[index]))
                    continue
                error = outcome.get(rid)
                hits.append(Hit(self.obj, update.prospect_pk, rid, error or "", bool(error)))
                if error is None:
                    # Its "Id" is the record's own: harmless in a merge.
                    written[rid] = update.changes
            with self.ctx.fenced():
                insert_hits(hits)
                refresh_snapshots(self.obj, [u.record for u in unit], written)

    def settle(self):
        """Every page was matched: each pending prospect takes its hits' outcome.

        Without activity sync, the prospects none of whose records failed (nearly all) are
        settled by one UPDATE that lists each one's records from the hits in SQL; the others
        one batch at a time, in Python. With activity sync on, every prospect is settled in
        batches by primary key (its activities are written then).
        """
        ctx, side = self.ctx, self.side
        pending = Prospect.objects.pending_for(side, ctx.options.max_sync_attempts)
        matched_ids = sql.matched_ids(self.obj)
        if not ctx.options.activity_sync and matched_ids is not None:
            hits = MatchScanHit.objects.filter(object=self.obj)
            failing = hits.exclude(error="").values("prospect_pk")
            # A failure of one record holds its prospect back; the rest in one statement.
            failing_pks = sorted(set(failing.values_list("prospect_pk", flat=True)))
            for pks in chunked(failing_pks, SETTLE_CHUNK):
                ctx.check_cancelled()
                rows = self.settling(pending.filter(pk__in=pks).order_by("pk"))
                if rows:
                    with ctx.batch() as batch:
                        batch.examined += len(rows)
                        self.settle_batch(batch, rows, pks=[row.pk for row in rows])
            ctx.check_cancelled()
            # The statuses' lock is held, so the other side's settlement has committed or not
            # begun.
            with ctx.batch() as batch, ctx.fenced():
                bulk.lock_prospect_statuses()
                batch.examined += pending.exclude(pk__in=failing).settle_side(side, matched_ids)
            return
        last = 0
        while True:
            ctx.check_cancelled()
            rows = self.settling(pending.filter(pk__gt=last).order_by("pk")[: ctx.batch_size])
            if not rows:
                return
            with ctx.batch() as batch:
                batch.examined += len(rows)
                self.settle_batch(batch, rows, last)
            last = rows[-1].pk

    def settling(self, prospects):
        """`prospects` (a queryset) as `Settling` rows."""
        columns = prospects.values_list("pk", "email_key", f"{self.side}_sync_attempts")
        return list(map(Settling._make, columns))

    def settle_batch(self, batch, rows, after=None, pks=None):
        """Settle `rows` (`Settling`): either every pending prospect with a primary key above
        `after` up to the last row's (a range, not a list of keys: the hits of that range are
        those of these rows, as only pending prospects have hits), or the prospects `pks`."""
        side, max_attempts = self.side, self.ctx.options.max_sync_attempts
        these = {"gt": after, "lte": rows[-1].pk} if pks is None else {"in": pks}
        ids, errors, attempted = defaultdict(list), defaultdict(list), set()
        for pk, rid, error, attempt in MatchScanHit.objects.filter(
            object=self.obj, **{f"prospect_pk__{op}": v for op, v in these.items()}
        ).values_list("prospect_pk", "record_id", "error", "attempt"):
            ids[pk].append(rid)
            if error:
                errors[pk].append(error)
                if attempt:
                    attempted.add(pk)
        activities = NO_ACTIVITIES
        if self.ctx.options.activity_sync:
            links = self.activity_links(rows, ids)
            activities = push_activities(self.sf, batch, side, self.lookup_field, links)
        done, failed = [], []
        for pk, _, attempts in rows:
            matched = sorted(ids.get(pk, ()))
            mine = errors.get(pk, []) + activities.errors.get(pk, [])
            if not mine:
                done.append(Written(pk, matched))
                continue
            if pk in attempted or pk in activities.errors:
                attempts += 1
            message = failure_message(mine, attempts, max_attempts)
            failed.append(NotWritten(pk, matched, attempts, message))
        with self.ctx.fenced():
            bulk.lock_prospect_statuses()
            Prospect.objects.record_outcomes(side, done, failed)
            mark_processed(
                side,
                Prospect.objects.filter(**{f"pk__{op}": v for op, v in these.items()}),
                activities.synced,
            )

    def activity_links(self, rows, ids):
        """The record each prospect's activities link to: its first matched record; for an
        older prospect whose e-mail a newer one has, the newer one's (as in IN mode): its hits
        in this scan, or, when it was not pending, the records it matched before."""
        links = {row.pk: min(ids[row.pk]) if ids.get(row.pk) else None for row in rows}
        orphans = {row.email_key: row.pk for row in rows if links[row.pk] is None}
        if orphans:
            # The hits of the other prospects with these e-mails (the hits table is not
            # indexed by e-mail: that index made every hit's insert dearer).
            others = Prospect.objects.filter(
                email_key__in=list(orphans), lifecycle=Lifecycle.ACTIVE
            ).values_list("pk", "email_key", "seq", f"matched_{self.side}_ids")
            keys, newest = {}, {}
            for pk, key, seq, matched in others:
                keys[pk] = key
                if pk != orphans[key] and matched and seq > newest.get(key, (-1, None))[0]:
                    newest[key] = (seq, matched)
            for owner, rid in MatchScanHit.objects.filter(
                object=self.obj, prospect_pk__in=list(keys)
            ).values_list("prospect_pk", "record_id"):
                pk = orphans[keys[owner]]
                links[pk] = rid if links[pk] is None else min(links[pk], rid)
            for key, (_, matched) in newest.items():
                if links[orphans[key]] is None:
                    links[orphans[key]] = min(matched)
        return links
