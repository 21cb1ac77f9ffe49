"""IN mode of the Match steps: each batch of pending prospects reads its records by e-mail
(one chunked `Email IN (...)` query), writes what really changes, then commits the prospects'
statuses."""

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import NamedTuple

from syncapp import bulk
from syncapp.engine.steps import Cancelled, StopStep
from syncapp.engine.steps.common import account, changes, keyset, prospect_values
from syncapp.engine.steps.matching.activities import ActivityOutcome, push_activities
from syncapp.engine.steps.matching.writes import (
    failure_message,
    mark_processed,
    refresh_snapshots,
)
from syncapp.models import Prospect
from syncapp.models.mirror import NotWritten, Written

NO_ACTIVITIES = ActivityOutcome({}, [])


@dataclass(slots=True)
class Plan:
    """One batch read and compared: what to write. Nothing is written yet."""

    prospects: list  # the batch's prospects (model instances)
    owner: dict  # e-mail key: the prospect that writes its records (the newest)
    found: dict  # e-mail key: the records read
    updates: list  # the records' changes, each with its "Id"
    written: dict  # record id: the fields its update changes
    later: set  # e-mails a later batch's prospect also has
    taken: set  # e-mails a newer prospect outside the batch owns: nothing of them written


class BatchInFlight(NamedTuple):
    """A batch whose write was sent and is not finished yet."""

    batch: object
    plan: Plan
    future: Future | None  # None: nothing to write


class InMode:
    """One run of a Match step in IN mode (`run`)."""

    def __init__(self, step, ctx, sf, soql, tags, score_fields):
        self.ctx, self.sf = ctx, sf
        self.obj, self.side, self.lookup_field = step.obj, step.side, step.activity_lookup
        self.soql, self.tags, self.score_fields = soql, tags, score_fields

    def run(self, pending):
        # Write-behind: a batch's collection calls go out on a worker thread while the next
        # batch is prepared (the org's time overlaps ours); each batch is finished (results
        # counted, statuses committed) in order, on this thread, once its write answered.
        # At most one write is in flight.
        behind = ThreadPoolExecutor(1, thread_name_prefix="sf-write-behind")
        in_flight = None
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
            for prospects in keyset(loaded, self.ctx.batch_size):
                in_flight = self.pipeline(behind, in_flight, prospects)
            if in_flight:
                current, in_flight = in_flight, None
                self.finish(current)
        finally:
            try:
                if in_flight:  # the step is ending early: what was written is still recorded
                    with suppress(StopStep, Cancelled):
                        self.finish(in_flight)
            finally:
                behind.shutdown(wait=True, cancel_futures=True)

    def pipeline(self, behind, in_flight, prospects):
        """Prepare this batch, finish the one in flight, send this one's write.

        Returns the batch now in flight, or None.
        """
        ctx = self.ctx
        batch = ctx.begin_batch()
        plan = None
        with ctx.batch_part(batch, last=False):
            plan = self.prepare(batch, prospects)
        if in_flight:
            self.finish(in_flight)
        if batch.closed:
            return None
        future = behind.submit(self.sf.update, self.obj, plan.updates) if plan.updates else None
        current = BatchInFlight(batch, plan, future)
        if plan.later:
            # A later batch reads records this one writes (two prospects, one e-mail): it
            # must see the write, so no overlap.
            self.finish(current)
            return None
        return current

    def finish(self, in_flight):
        batch, plan, future = in_flight
        if batch.closed:
            return
        with self.ctx.batch_part(batch, last=True):
            results = future.result() if future else []
            self.commit(batch, plan, results)

    def claims(self, prospects):
        """What the other stored prospects claim of this batch's e-mails (rare: two
        prospects, one e-mail): a later batch's pending prospect reads the records this one
        writes; a newer prospect, pending or not, owns them."""
        return Prospect.objects.email_claims(
            self.side,
            self.ctx.options.max_sync_attempts,
            {p.email_key for p in prospects},
            after=max(p.pk for p in prospects),
        )

    def prepare(self, batch, prospects):
        """Read and compare one batch: its `Plan`. Nothing is written here (see `commit`)."""
        batch.examined += len(prospects)
        # Two prospects with one e-mail would fight over the same records: the newest wins,
        # in this batch and among every stored prospect (an older one may be pending again
        # while the newer is not: a malformed item read at last, asked for again).
        owner = {}
        for p in sorted(prospects, key=lambda p: p.seq):
            owner[p.email_key] = p
        claims = self.claims(prospects)
        taken = {k for k, p in owner.items() if claims.newest.get(k, -1) > p.seq}
        found = defaultdict(list)
        for record in self.sf.query_in(self.soql, sorted(owner)):
            key = (record.get("Email") or "").lower()
            if key in owner:
                found[key].append(record)

        updates, written = [], {}
        for key, prospect in owner.items():
            if key in taken:
                continue
            desired = prospect_values(prospect, self.tags, self.score_fields)
            for record in found.get(key, []):
                diff = changes(record, desired)
                if diff:
                    updates.append({"Id": record["Id"], **diff})
                    written[record["Id"]] = diff
        return Plan(
            prospects=prospects,
            owner=owner,
            found=found,
            updates=updates,
            written=written,
            later=claims.later,
            taken=taken,
        )

    def commit(self, batch, plan, results):
        """After the batch's write answered: count it, and only then commit the prospects'
        statuses (a crash before this repeats the batch; the compare makes that cheap)."""
        side, owner, found = self.side, plan.owner, plan.found
        outcome = account(batch, self.obj, plan.updates, results)
        written = {rid: d for rid, d in plan.written.items() if outcome.get(rid) is None}

        activities = NO_ACTIVITIES
        if self.ctx.options.activity_sync:
            # An older prospect with a newer one's e-mail still links its activities to the
            # e-mail's records.
            links = {}
            for p in plan.prospects:
                mine = found.get(p.email_key) if owner.get(p.email_key) is not None else None
                links[p.pk] = min(r["Id"] for r in mine) if mine else None
            activities = push_activities(self.sf, batch, side, self.lookup_field, links)

        max_attempts = self.ctx.options.max_sync_attempts
        attempts_field = f"{side}_sync_attempts"
        done, failed = [], []
        for prospect in plan.prospects:
            key = prospect.email_key
            ours = owner.get(key) is prospect and key not in plan.taken
            ids = sorted(r["Id"] for r in found.get(key, [])) if ours else []
            errors = [outcome[i] for i in ids if outcome.get(i)]
            errors += activities.errors.get(prospect.pk, [])
            if not ours:
                errors = []  # its e-mail belongs to a newer prospect: nothing to write
            if errors:
                attempts = getattr(prospect, attempts_field) + 1
                message = failure_message(errors, attempts, max_attempts)
                failed.append(NotWritten(prospect.pk, ids, attempts, message))
            else:
                done.append(Written(prospect.pk, ids))
        with self.ctx.fenced():
            bulk.lock_prospect_statuses()
            # `last_error` only where this side failed: the other side may have written its
            # own since these prospects were read (the steps run side by side).
            Prospect.objects.record_outcomes(side, done, failed)
            mark_processed(
                side,
                Prospect.objects.filter(pk__in=[p.pk for p in plan.prospects]),
                activities.synced,
            )
            records = [r for records in found.values() for r in records]
            refresh_snapshots(self.obj, records, written)
