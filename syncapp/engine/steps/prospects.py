"""GetProspects and GetProspectPages: pull the backend's changes into the local mirror.

Pages are fetched outside any transaction and written with the cursor past them in one
transaction: GetProspects a batch of up to 5 pages in one, GetProspectPages one page. A crash
repeats at most that much, it never skips a page.
"""

import datetime as dt
import json
import logging
import math
import re
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from syncapp import bulk
from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import parse_datetime
from syncapp.models import (
    Activity,
    ActivityType,
    Lifecycle,
    MalformedItem,
    Prospect,
    ScoreDefinition,
    SyncCursor,
    TagDefinition,
    WaitingActivity,
)
from syncapp.saleswings.client import MAX_SEQ

log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[^@\s;,'\"]+@[^@\s;,'\"]+\.[^@\s;,'\"]+$")
TEMPERATURES = {"Hot", "Warm", "Cold"}
PAGE_LIMIT_MAX = 1000
# How long a batch of GetProspects waits for its next page inside its transaction (holding
# SQLite's write lock) before it commits what it has and waits outside.
HOLD_S = 0.5
LIFECYCLES = frozenset(Lifecycle.values)


class BadRecord(ValueError):
    pass


def _text(item, key, limit):
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{key} is not text")
    if "\x00" in value:  # valid JSON ("\u0000"), but PostgreSQL refuses it in text
        raise BadRecord(f"{key} holds a NUL character")
    return value[:limit]


def _has_nul(value):
    """Whether a NUL character is anywhere in a JSON value (valid JSON, "\\u0000", but
    PostgreSQL refuses it in text and jsonb)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_nul, value))
    return False


def _seq(item):
    seq = item.get("seq")
    # Past what the database stores: it refused it, failing the whole page every cycle. (An
    # integer past 64 bits is decoded as a float: syncapp.fastjson.)
    if isinstance(seq, int | float) and not isinstance(seq, bool) and seq > MAX_SEQ:
        raise BadRecord(f"seq is out of range: {seq}")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise BadRecord("seq is missing or not a non-negative integer")
    return seq


def _dt(item, key):
    """The date-time `key` of a backend item, in UTC (stored and written so)."""
    try:
        value = parse_datetime(item.get(key))
    except (TypeError, ValueError) as exc:
        raise BadRecord(f"{key} is not an ISO 8601 date-time") from exc
    if value is None:
        return None
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        # 9999-12-31T23:00-05:00 is past the last UTC date-time (Python's year 9999): left
        # to the database layer, it failed its whole page, every cycle.
        raise BadRecord(f"{key} is out of range: {item.get(key)!r}") from exc


# Set in a parsed prospect's fields when part of the item is malformed: which stored values
# to keep ({"scores": the keys, or True for all; "tags" / "temperature" / "favorite": True}).
# A malformed part never clears a good value; the item is asked for again (MalformedItem).
KEEP = "_keep"


def record_id(item):
    """The backend id of a backend item (a prospect or an activity); BadRecord when the item
    cannot be stored at all (not an object, no usable id)."""
    if not isinstance(item, dict):
        raise BadRecord(f"not a JSON object: {str(item)[:80]}")
    backend_id = item.get("id")
    if not isinstance(backend_id, str) or not backend_id or len(backend_id) > 80:
        raise BadRecord("id is missing or not text")
    if _has_nul(backend_id):
        raise BadRecord(f"id {backend_id!r} holds a NUL character")
    return backend_id


def parse_prospect(item, tag_ids, score_ids):
    """The mirror's fields for one backend prospect, and the problems found in it.

    Raises BadRecord when the record cannot be stored at all (no id, not an object). A part
    that is malformed (a score that is not a finite number, tags that are not a list...) is
    left out with a problem, and `fields[KEEP]` says which stored values stand instead.
    """
    backend_id = record_id(item)
    problems = []
    keep = {}
    lifecycle = item.get("lifecycle") or Lifecycle.ACTIVE
    if lifecycle not in LIFECYCLES:
        raise BadRecord(f"{backend_id}: unknown lifecycle {lifecycle!r}")
    email = item.get("email")
    email = email.strip() if isinstance(email, str) else ""
    nul = "\x00" in email  # no address holds one, and PostgreSQL cannot store it
    if nul:
        email = email.replace("\x00", "\ufffd")
    if nul or not EMAIL_RE.match(email) or len(email) > 254:
        if lifecycle == Lifecycle.ACTIVE:
            problems.append(f"missing or malformed e-mail {email[:80]!r}")
        email_key = ""
    else:
        email_key = email.lower()
    temperature = item.get("temperature") or ""
    if temperature and temperature not in TEMPERATURES:
        problems.append(f"unknown temperature {str(temperature)[:20]!r}")
        temperature = ""
        keep["temperature"] = True
    raw_tags = item.get("tags") or []
    if not isinstance(raw_tags, list):
        problems.append("tags is not a list")
        raw_tags = []
        keep["tags"] = True
    tags = []
    for tag in raw_tags:
        if isinstance(tag, str) and tag in tag_ids:
            tags.append(tag)
        else:
            problems.append(f"unknown tag {str(tag)[:40]!r}")
    raw_scores = item.get("scores") or {}
    if not isinstance(raw_scores, dict):
        problems.append("scores is not an object")
        raw_scores = {}
        keep["scores"] = True
    scores = {}
    for key, value in raw_scores.items():
        if key not in score_ids:
            problems.append(f"unknown score {str(key)[:40]!r}")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"score {key} is not a number (its stored value stands)")
            _keep_score(keep, key)
        elif not math.isfinite(value):
            # Python's JSON parser reads NaN, Infinity and 1e999; JSON cannot store them
            # (SQLite's JSON_VALID and PostgreSQL's jsonb refuse the whole page).
            problems.append(f"score {key} is not a finite number (its stored value stands)")
            _keep_score(keep, key)
        else:
            scores[key] = value
    favorite = item.get("favorite")
    if favorite is not None and not isinstance(favorite, bool):
        problems.append(f"favorite is not true or false: {str(favorite)[:20]!r}")
        favorite = False
        keep["favorite"] = True
    fields = {
        "backend_id": backend_id,
        "seq": _seq(item),
        "email": email[:254],
        "email_key": email_key,
        "first_name": _text(item, "firstName", 120),
        "last_name": _text(item, "lastName", 120),
        "lifecycle": lifecycle,
        "merged_into": _text(item, "mergedInto", 80),
        "temperature": temperature,
        "last_visit": _dt(item, "lastVisit"),
        "favorite": bool(favorite),
        "assignee": _text(item, "assignee", 254),
        "tags": sorted(set(tags)),
        "scores": scores,
        "updated_at": _dt(item, "updatedAt"),
    }
    if keep:
        fields[KEEP] = keep
    return fields, problems


def _keep_score(keep, key):
    if keep.get("scores") is not True:
        keep.setdefault("scores", set()).add(key)


def keep_stored(parsed):
    """Put back the stored values that malformed parts of these parsed prospects (`KEEP`) must
    not clear. One look-up, for those prospects only."""
    partial = {f["backend_id"]: f for f, _ in parsed if KEEP in f}
    if not partial:
        return
    columns = ("backend_id", "temperature", "tags", "scores", "favorite")
    for backend_id, temperature, tags, scores, favorite in bulk.select_by_keys(
        Prospect, columns, "backend_id", sorted(partial)
    ):
        fields = partial[backend_id]
        keep = fields[KEEP]
        stored = {
            "temperature": temperature,
            "tags": json.loads(tags) if isinstance(tags, str) else tags,
            "scores": json.loads(scores) if isinstance(scores, str) else scores,
            "favorite": bool(favorite),
        }
        for name in ("temperature", "tags", "favorite"):
            if keep.get(name):
                fields[name] = stored[name]
        if keep.get("scores") is True:
            fields["scores"] = stored["scores"] or {}
        elif keep.get("scores"):
            old = stored["scores"] or {}
            fields["scores"] = dict(fields["scores"])
            for key in keep["scores"]:
                if key in old:
                    fields["scores"][key] = old[key]


UPSERT_FIELDS = [
    "seq",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "lifecycle",
    "merged_into",
    "temperature",
    "last_visit",
    "favorite",
    "assignee",
    "tags",
    "scores",
    "updated_at",
    "fetched_at",
    "sync_status",
    "lead_pending",
    "contact_pending",
    "lead_sync_attempts",
    "contact_sync_attempts",
    "last_error",
    "lead_clean_pending",
    "contact_clean_pending",
]


class StoredState(NamedTuple):
    """What GetProspects needs of a prospect already stored."""

    email_key: str
    lead_clean_pending: bool
    contact_clean_pending: bool


def stored_states(ids):
    """{backend id: its `StoredState`} of the prospects already stored among `ids` (one page).
    Plain SQL (`bulk.select_by_keys`): the ORM's statement of 1,000 parameters cost several
    times the look-up."""
    fields = ("backend_id", "email_key", "lead_clean_pending", "contact_clean_pending")
    return {
        backend_id: StoredState(*state)
        for backend_id, *state in bulk.select_by_keys(Prospect, fields, "backend_id", ids)
    }


def store_prospects(parsed, now):
    """Upsert one page of parsed prospects (in the caller's transaction)."""
    keep_stored(parsed)
    old = stored_states([f["backend_id"] for f, _ in parsed])
    rows = []
    for fields, problems in parsed:
        previous = old.get(fields["backend_id"])
        active = fields["lifecycle"] == Lifecycle.ACTIVE
        # Records that held this prospect may have to be cleaned: it is gone, or its e-mail
        # moved (its old Leads/Contacts no longer match). New inactive prospects too: the org
        # may hold their data from before.
        dirty = not active or (previous is not None and previous.email_key != fields["email_key"])
        fields.pop(KEEP, None)
        matchable = active and bool(fields["email_key"])
        fields.update(Prospect.fetched_state(matchable))
        fields.update(
            last_error="; ".join(problems)[:2000],
            lead_clean_pending=dirty or bool(previous and previous.lead_clean_pending),
            contact_clean_pending=dirty or bool(previous and previous.contact_clean_pending),
            fetched_at=now,
        )
        rows.append(fields)
    bulk.insert(Prospect, rows, unique=["backend_id"], update=UPSERT_FIELDS)


class GetProspects(Step):
    name = "GetProspects"
    # A batch is this many prospects, fetched in pages of up to the contract's largest (1,000)
    # and stored with their cursor in one transaction. Several pages a transaction: each
    # commit writes every index page its rows touched (the e-mail and id indexes take random
    # keys), so 5 pages a commit write far fewer pages than 5 commits. A crash repeats at most
    # one batch.
    default_batch_size = 5 * PAGE_LIMIT_MAX

    def run(self, ctx):
        sw = clients.saleswings()
        started = timezone.now()
        since = 0 if ctx.full_sync else int(SyncCursor.get(SyncCursor.PROSPECTS, 0))
        limit = max(1, min(ctx.batch_size, PAGE_LIMIT_MAX))
        tag_ids = set(
            TagDefinition.objects.filter(active=True).values_list("backend_id", flat=True)
        )
        score_ids = set(
            ScoreDefinition.objects.filter(active=True).values_list("backend_id", flat=True)
        )
        # Read-ahead: the next page is fetched on a worker thread while this one is stored
        # (the backend's time overlaps ours). Only the main thread touches the database; a
        # page fetched ahead is dropped if this one fails to store.
        ahead = ThreadPoolExecutor(1, thread_name_prefix="sw-read-ahead")
        try:
            stored = self.batches(ctx, sw, since, limit, tag_ids, score_ids, ahead)
        finally:
            ahead.shutdown(wait=True, cancel_futures=True)
        stored += self.ask_again(ctx, sw, tag_ids, score_ids, started)
        if ctx.options.activity_sync:
            # Then GetProspectPages and the Match steps' settlements walk the prospects batch
            # by batch, each statement planned by the table's statistics. Without activity
            # sync the settlement is one statement per side, which fresh statistics do not
            # make faster.
            bulk.refresh_statistics(Prospect, stored)

    def batches(self, ctx, sw, since, limit, tag_ids, score_ids, ahead):
        """Batch after batch until the backend has no more. A batch's pages and the cursor
        past them are committed together; a batch that failed to store stops the step (its
        cursor did not move, so the next cycle starts from it again rather than skipping it).
        Returns the prospects stored."""
        future, total = None, 0
        while True:
            done = False
            with ctx.batch() as batch:
                # The batch's first page is waited for outside its transaction. A later page
                # joins it only if it arrived within HOLD_S, and fetched well: the write lock
                # is not held long for a slow backend, and a page that failed to arrive fails
                # the next batch (raised again below), not the pages already stored.
                page = future.result() if future else sw.prospects(since, limit)
                future = None
                stored, count = since, 0
                with ctx.fenced():
                    while True:
                        if page.has_more and page.next_since > stored:
                            future = ahead.submit(sw.prospects, page.next_since, limit)
                        count += self.store_page(batch, page, stored, tag_ids, score_ids)
                        stored = max(page.next_since, stored)
                        if future is None or batch.examined + limit > ctx.batch_size:
                            break
                        wait([future], timeout=HOLD_S)
                        if not future.done() or future.exception() is not None:
                            break
                        page, future = future.result(), None
                    SyncCursor.put(SyncCursor.PROSPECTS, stored)
                batch.modified += count
                total += count
                since = stored
                done = True
            if not done or future is None:
                break
            ctx.check_cancelled()
        return total

    def store_page(self, batch, page, since, tag_ids, score_ids):
        """Parse and store one page (asked for `since`, in the batch's transaction); returns
        the prospects stored. A malformed item (or one with malformed parts) is noted where
        it was (`MalformedItem`), to be asked for again by later cycles (`ask_again`)."""
        parsed, bad, after, run = {}, [], since, None
        for item in page.items:
            batch.examined += 1
            seq = _readable_seq(item)
            try:
                fields, problems = parse_prospect(item, tag_ids, score_ids)
            except BadRecord as exc:
                batch.record_failure(f"Prospect skipped: {exc}")
                run = _note(bad, run, after, item, seq, str(exc))
                after = seq if seq is not None else after
                continue
            for problem in problems:
                batch.record_failure(f"Prospect {fields['backend_id']}: {problem}")
            partly = KEEP in fields
            run = _note(bad, run, after, item, seq, "; ".join(problems)) if partly else None
            after = seq
            # One page may carry a prospect twice: its latest change wins.
            kept = parsed.get(fields["backend_id"])
            if kept is None or kept[0]["seq"] <= fields["seq"]:
                parsed[fields["backend_id"]] = (fields, problems)
        store_prospects(list(parsed.values()), timezone.now())
        for since_, span, backend_id, seq, error in bad:
            MalformedItem.objects.note(since_, span, backend_id, seq, error)
        return len(parsed)

    def forget_superseded(self, ctx):
        """Given-up items whose prospect changed since (its newer item read well): no longer
        listed."""
        notes = list(MalformedItem.objects.given_up().exclude(backend_id=""))
        gone = _superseded(notes)
        if gone:
            with ctx.fenced():
                MalformedItem.objects.filter(pk__in=gone).delete()

    def ask_again(self, ctx, sw, tag_ids, score_ids, started):
        """The malformed items noted by earlier pages, asked for again where they were: stored
        once they read (unless a newer change of the prospect is stored already); after the
        maximum sync attempts, given up and shown on the Prospects admin (the prospect's last
        error, and the list of unreadable items). Items noted by this run (after `started`)
        wait for the next cycle. Returns the prospects stored."""
        total, max_attempts = 0, ctx.options.max_sync_attempts
        self.forget_superseded(ctx)
        earlier = MalformedItem.objects.pending().filter(updated_at__lt=started)
        for noted in list(earlier[:ASK_AGAIN_MAX]):
            ctx.check_cancelled()
            with ctx.batch() as batch:
                page = sw.prospects(noted.since, noted.span)  # outside any transaction
                parsed, errors = [], []
                for item in page.items[: noted.span]:
                    batch.examined += 1
                    try:
                        fields, problems = parse_prospect(item, tag_ids, score_ids)
                    except BadRecord as exc:
                        errors.append(str(exc))
                        continue
                    if KEEP in fields:
                        errors.append("; ".join(problems))
                    parsed.append((fields, problems))
                with ctx.fenced():
                    newer = dict(
                        bulk.select_by_keys(
                            Prospect, ("backend_id", "seq"), "backend_id",
                            sorted({f["backend_id"] for f, _ in parsed}),
                        )
                    )  # fmt: skip
                    fresh = [
                        (f, p) for f, p in parsed if newer.get(f["backend_id"], -1) <= f["seq"]
                    ]
                    store_prospects(fresh, timezone.now())
                    batch.modified += len(fresh)
                    total += len(fresh)
                    if not errors:
                        noted.delete()
                        continue
                    error = "; ".join(errors)
                    if MalformedItem.objects.retried(noted, error, max_attempts, timezone.now()):
                        message = (
                            f"The backend's item after seq {noted.since} could not be read "
                            f"after {noted.attempts} attempts: {error}"
                        )
                        batch.record_failure(message)
                        if noted.backend_id:
                            Prospect.objects.filter(backend_id=noted.backend_id).record_unreadable(
                                message
                            )
        return total


def _superseded(notes):
    """The notes among `notes` whose prospect has a newer change stored since."""
    ids = sorted({n.backend_id for n in notes if n.backend_id})
    stored = dict(bulk.select_by_keys(Prospect, ("backend_id", "seq"), "backend_id", ids))
    return [n.pk for n in notes if n.seq is not None and stored.get(n.backend_id, -1) > n.seq]


# Malformed items asked for again per cycle at most (one backend call each).
ASK_AGAIN_MAX = 200


def _readable_seq(item):
    """An item's sequence number, if it can be read at all (for noting where it was)."""
    if not isinstance(item, dict):
        return None
    seq = item.get("seq")
    if isinstance(seq, str) and seq.isdigit():
        seq = int(seq)
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQ:
        return seq
    return None


def _note(bad, run, after, item, seq, error):
    """Note a malformed item read after sequence `after`. One whose own sequence cannot be read
    joins the note of a malformed item right before it (they are asked for again together).
    Returns the note it is in."""
    backend_id = item.get("id") if isinstance(item, dict) else None
    backend_id = backend_id[:80] if isinstance(backend_id, str) else ""
    if run is not None and seq is None:
        since, span, first_id, first_seq, errors = run
        bad[-1] = run = (since, span + 1, first_id or backend_id, first_seq, f"{errors}; {error}")
        return run
    since = seq - 1 if seq is not None else after
    run = (since, 1, backend_id, seq, error)
    bad.append(run)
    return run


def parse_activity(item):
    backend_id = record_id(item)
    kind = item.get("type")
    if kind not in ActivityType.values:
        raise BadRecord(f"{backend_id}: unknown type {str(kind)[:30]!r}")
    occurred = _dt(item, "occurredAt")
    if occurred is None:
        raise BadRecord(f"{backend_id}: occurredAt is missing")
    details = item.get("details") or {}
    if not isinstance(details, dict):
        raise BadRecord(f"{backend_id}: details is not an object")
    try:
        json.dumps(details, allow_nan=False)
    except ValueError as exc:  # NaN or Infinity somewhere: JSON cannot store the details
        raise BadRecord(f"{backend_id}: details hold a value JSON cannot store ({exc})") from exc
    if _has_nul(details):  # PostgreSQL's jsonb refuses it
        raise BadRecord(f"{backend_id}: details hold a NUL character")
    prospect_id = item.get("prospectId")
    if not isinstance(prospect_id, str) or not prospect_id or _has_nul(prospect_id):
        raise BadRecord(f"{backend_id}: prospectId is missing or malformed")
    return prospect_id, {
        "backend_id": backend_id,
        "seq": _seq(item),
        "type": kind,
        "occurred_at": occurred,
        "url": _text(item, "url", 2000),
        "title": _text(item, "title", 255),
        "details": details,
    }


ACTIVITY_UPSERT_FIELDS = [
    "prospect",
    "seq",
    "type",
    "occurred_at",
    "url",
    "title",
    "details",
    "lead_synced",
    "contact_synced",
]


class GetProspectPages(Step):
    """Activities (page visits, form submissions, custom events), with activity sync on."""

    name = "GetProspectPages"
    default_batch_size = PAGE_LIMIT_MAX

    def applies(self, options):
        return options.activity_sync

    def run(self, ctx):
        sw = clients.saleswings()
        total = self.link_waiting(ctx)
        self.any_waiting = WaitingActivity.objects.exists()
        since = 0 if ctx.full_sync else int(SyncCursor.get(SyncCursor.ACTIVITIES, 0))
        limit = max(1, min(ctx.batch_size, PAGE_LIMIT_MAX))
        # Read-ahead, as in GetProspects: the next page is fetched on a worker thread while
        # this one is stored; only this thread touches the database, and a page fetched ahead
        # is dropped if this one fails to store.
        ahead = ThreadPoolExecutor(1, thread_name_prefix="sw-read-ahead")
        try:
            future = None
            while True:
                stored = False
                with ctx.batch() as batch:
                    page = future.result() if future else sw.activities(since, limit)
                    future = None
                    if page.has_more and page.next_since > since:
                        future = ahead.submit(sw.activities, page.next_since, limit)
                    count = self.store_page(ctx, batch, page, since)
                    batch.modified += count
                    total += count
                    stored = True
                if not stored or not page.has_more or page.next_since <= since:
                    break
                since = page.next_since
                ctx.check_cancelled()
        finally:
            ahead.shutdown(wait=True, cancel_futures=True)
        # The activities' prospects were queued again: both tables changed.
        bulk.refresh_statistics(Activity, total)
        bulk.refresh_statistics(Prospect, total)

    def link_waiting(self, ctx):
        """The waiting activities whose prospect is stored now (GetProspects ran): made
        activities, their prospects queued again. Those waiting past the retention are
        dropped, counted skipped. Returns the activities linked."""
        if not WaitingActivity.objects.exists():
            return 0
        days = settings.SWSTUDIO_WAITING_ACTIVITY_DAYS
        expired = WaitingActivity.objects.filter(noted_at__lt=timezone.now() - dt.timedelta(days))
        if expired.exists():
            with ctx.batch() as batch, ctx.fenced():
                dropped, _ = expired.delete()
                batch.examined += dropped
                batch.skipped += dropped
            log.warning(
                "%s activities dropped: their prospect was not stored within %s days",
                dropped, days,
            )  # fmt: skip
        # Only those whose prospect is stored, with its primary key: one indexed look-up
        # each, however many wait (a Full Synchronization reads every activity of the
        # prospects the backend removed long ago).
        prospect = Prospect.objects.filter(backend_id=OuterRef("prospect_backend_id"))
        linkable = WaitingActivity.objects.annotate(
            prospect_pk=Subquery(prospect.values("pk")[:1])
        ).filter(prospect_pk__isnull=False)
        total, last = 0, 0
        while True:
            ctx.check_cancelled()
            waiting = list(
                linkable.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "prospect_pk", "data")[:PAGE_LIMIT_MAX]
            )
            if not waiting:
                return total
            last = waiting[-1][0]
            with ctx.batch() as batch, ctx.fenced():
                rows = [_activity_row(data, prospect_pk) for _, prospect_pk, data in waiting]
                batch.examined += len(waiting)
                # An activity stored since (read again with its prospect) is newer: kept.
                bulk.insert(Activity, rows, unique=["backend_id"])
                WaitingActivity.objects.filter(pk__in=[pk for pk, _, _ in waiting]).delete()
                Prospect.objects.filter(
                    pk__in={r["prospect_id"] for r in rows}, lifecycle=Lifecycle.ACTIVE
                ).exclude(email_key="").requeue()
                batch.modified += len(rows)
                total += len(rows)

    def store_page(self, ctx, batch, page, since):
        """Parse and store one page with the cursor past it (one transaction); returns the
        activities stored."""
        parsed = []
        for item in page.items:
            batch.examined += 1
            try:
                parsed.append(parse_activity(item))
            except BadRecord as exc:
                batch.record_failure(f"Activity skipped: {exc}")
        with ctx.fenced():
            ids = sorted({pid for pid, _ in parsed})
            prospects = dict(bulk.select_by_keys(Prospect, ("backend_id", "id"), "backend_id", ids))
            rows, waiting = [], []
            for prospect_id, fields in parsed:
                pk = prospects.get(prospect_id)
                if pk is None:
                    # Its prospect is not stored (yet): it appeared after GetProspects read,
                    # or its item was malformed and is asked for again, or the backend
                    # deleted it and CleanProspects dropped it. Kept until it is stored
                    # (`link_waiting`); the cursor moves past it, so it is not read again.
                    waiting.append(_waiting_row(prospect_id, fields))
                    continue
                fields.update(prospect_id=pk, lead_synced=False, contact_synced=False)
                rows.append(fields)
            # A page carrying an activity twice keeps the last.
            bulk.insert(Activity, rows, unique=["backend_id"], update=ACTIVITY_UPSERT_FIELDS)
            if waiting:
                # Noted again (a Full Synchronization), it keeps its first `noted_at`.
                bulk.insert(
                    WaitingActivity, waiting, unique=["backend_id"],
                    update=["prospect_backend_id", "seq", "data"],
                )  # fmt: skip
                self.any_waiting = True
            if rows and self.any_waiting:
                # Read again with its prospect stored: the waiting copy is older.
                WaitingActivity.objects.filter(
                    backend_id__in=[r["backend_id"] for r in rows]
                ).delete()
            # Their Leads and Contacts get the new activities in this cycle's Match.
            Prospect.objects.filter(
                pk__in={r["prospect_id"] for r in rows}, lifecycle=Lifecycle.ACTIVE
            ).exclude(email_key="").requeue()
            SyncCursor.put(SyncCursor.ACTIVITIES, max(page.next_since, since))
        return len(rows)


def _waiting_row(prospect_id, fields):
    """A parsed activity whose prospect is not stored, as a `WaitingActivity` row."""
    data = dict(fields, occurred_at=fields["occurred_at"].isoformat())
    return {
        "backend_id": fields["backend_id"],
        "prospect_backend_id": prospect_id,
        "seq": fields["seq"],
        "data": data,
        "noted_at": timezone.now(),
    }


def _activity_row(data, prospect_pk):
    """A waiting activity's `data` as an `Activity` row of its (now stored) prospect."""
    return dict(
        data,
        occurred_at=dt.datetime.fromisoformat(data["occurred_at"]),
        prospect_id=prospect_pk,
        lead_synced=False,
        contact_synced=False,
    )
