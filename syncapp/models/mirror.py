"""The local mirror of the SalesWings backend, and the sync's own bookkeeping.

Tags and scores of a prospect are JSON on the prospect row rather than join tables: every step
reads and writes them whole, per prospect, in batches of a few hundred prospects. One row per
prospect streams with keyset pagination and no joins, and an upsert of a page of prospects is one
statement. What JSON costs is "which prospects hold tag X": needed only when a tag definition is
renamed or removed, a rare event handled by re-queuing the active prospects.
"""

from typing import NamedTuple

from django.db import models
from django.db.models import Case, F, Value, When
from django.utils import timezone

from syncapp import bulk


class TagDefinition(models.Model):
    backend_id = models.CharField("SalesWings id", max_length=80, unique=True)
    name = models.CharField(max_length=255, help_text="Written into SW_Tags__c.")
    description = models.TextField(blank=True)
    active = models.BooleanField(
        default=True, help_text="Off once the backend no longer lists this tag."
    )

    class Meta:
        verbose_name = "Tag Definition"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ScoreDefinition(models.Model):
    backend_id = models.CharField("SalesWings id", max_length=80, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    active = models.BooleanField(
        default=True,
        help_text="Off once the backend no longer lists this score. Kept (not deleted) so "
        "its Field Mappings survive a definition that comes back.",
    )

    class Meta:
        verbose_name = "Score Definition"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Lifecycle(models.TextChoices):
    ACTIVE = "Active"
    MERGED = "Merged"
    DELETED = "Deleted"


class SyncStatus(models.TextChoices):
    NOT_PROCESSED = "Not Processed"
    PROCESSED = "Processed"


SIDES = ("lead", "contact")
OTHER_SIDE = {"lead": "contact", "contact": "lead"}


class Written(NamedTuple):
    """A prospect whose records on one side were all written: the records it matched."""

    pk: int
    matched_ids: list


class NotWritten(NamedTuple):
    """A prospect whose write on one side failed: the records it matched, its attempts so far
    (this one included where it counts) and why."""

    pk: int
    matched_ids: list
    attempts: int
    error: str


class EmailClaims(NamedTuple):
    """What the stored prospects claim of some e-mails (`ProspectQuerySet.email_claims`)."""

    later: set  # e-mails a later batch's pending prospect has
    newest: dict  # e-mail key: the seq of its newest active prospect (the records' owner)


class ProspectQuerySet(models.QuerySet):
    def pending_for(self, side, max_attempts):
        """Active prospects still to be written to their Leads (side "lead") or Contacts."""
        return self.filter(
            lifecycle=Lifecycle.ACTIVE,
            sync_status=SyncStatus.NOT_PROCESSED,
            **{f"{side}_pending": True, f"{side}_sync_attempts__lt": max_attempts},
        ).exclude(email_key="")

    def email_claims(self, side, max_attempts, email_keys, after=0):
        """What the stored prospects claim of `email_keys` (`EmailClaims`): the e-mails that
        a prospect of `pending_for(side, max_attempts)` with a primary key above `after` has,
        and each e-mail's newest active prospect (its `seq`), which owns its records whether
        pending or not.

        Looked up by e-mail (its index) and the conditions checked here: filtered in SQL,
        SQLite walks the (sync_status, lifecycle) index over every pending prospect, once per
        batch, which grew with the square of the cycle's size.
        """
        rows = self.filter(email_key__in=email_keys).values_list(
            "pk", "seq", "email_key", "lifecycle", "sync_status",
            f"{side}_pending", f"{side}_sync_attempts",
        )  # fmt: skip
        later, newest = set(), {}
        for pk, seq, key, lifecycle, status, pending, attempts in rows:
            if not key or lifecycle != Lifecycle.ACTIVE:
                continue
            if seq > newest.get(key, -1):
                newest[key] = seq
            if (
                pk > after
                and status == SyncStatus.NOT_PROCESSED
                and pending
                and attempts < max_attempts
            ):
                later.add(key)
        return EmailClaims(later, newest)

    # --- state changes ---------------------------------------------------------------------

    def mark_processed(self):
        """Those done on both sides (and not Processed yet) become Processed, their last error
        cleared."""
        return self.filter(
            lead_pending=False,
            contact_pending=False,
            sync_status=SyncStatus.NOT_PROCESSED,
        ).update(sync_status=SyncStatus.PROCESSED, last_error="")

    def requeue(self):
        """Write these prospects to their Leads and Contacts again, attempts counted anew."""
        return self.update(
            sync_status=SyncStatus.NOT_PROCESSED,
            lead_pending=True,
            contact_pending=True,
            lead_sync_attempts=0,
            contact_sync_attempts=0,
        )

    def requeue_side(self, side):
        """Write these prospects to their Leads (side "lead") or Contacts again."""
        return self.update(
            sync_status=SyncStatus.NOT_PROCESSED,
            **{f"{side}_pending": True, f"{side}_sync_attempts": 0},
        )

    def record_unreadable(self, message):
        """The backend's latest item of these prospects could not be read after the maximum
        attempts: shown as their last error (their sync status is left as it is)."""
        return self.update(last_error=message.replace("\x00", "\ufffd")[:2000])

    def mark_cleaned(self, side):
        """No Lead (side "lead") or Contact holds these prospects' data where it should not."""
        return self.update(**{f"{side}_clean_pending": False})

    def settle_side(self, side, matched_ids):
        """Every record of these prospects on `side` was written: the side is no longer
        pending, its matched records are `matched_ids` (a value or an expression), and those
        the other side is done with become Processed (`mark_processed`'s rule) in the same
        statement: one rewrite of each row, not two. Returns the prospects settled."""
        done = {f"{OTHER_SIDE[side]}_pending": False}
        return self.update(
            **{
                f"{side}_pending": False,
                f"matched_{side}_ids": matched_ids,
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

    def record_outcomes(self, side, written, not_written):
        """One side's outcome, by primary key (one prepared UPDATE each): `written`
        (`Written`) are no longer pending on that side; `not_written` (`NotWritten`) stay
        pending with their attempts and error. Neither becomes Processed here
        (`mark_processed`)."""
        bulk.update_by_key(
            Prospect,
            [f"matched_{side}_ids", f"{side}_pending"],
            "id",
            [[w.matched_ids, False, w.pk] for w in written],
        )
        bulk.update_by_key(
            Prospect,
            [f"matched_{side}_ids", f"{side}_sync_attempts", "last_error"],
            "id",
            [[n.matched_ids, n.attempts, n.error, n.pk] for n in not_written],
        )


class Prospect(models.Model):
    # Unique and indexed through Meta (a constraint, an index), not `unique=True` /
    # `db_index=True`: on PostgreSQL those also build a second, `varchar_pattern_ops` index
    # for LIKE 'prefix%' that no query here uses, and every upsert and settlement paid for it.
    backend_id = models.CharField("SalesWings id", max_length=80)
    # Not indexed: nothing looks prospects up by it (matching goes by `email_key`), and an
    # index on random text made every upsert of GetProspects dearer.
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(
        "e-mail for matching",
        max_length=254,
        blank=True,
        editable=False,
        help_text="The e-mail lowercased: matching is case-insensitive. Empty when the "
        "backend's e-mail was missing or malformed (nothing is matched then).",
    )
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices)
    merged_into = models.CharField(max_length=80, blank=True)
    temperature = models.CharField(max_length=10, blank=True)
    last_visit = models.DateTimeField(null=True, blank=True)
    favorite = models.BooleanField(default=False)
    assignee = models.CharField(max_length=254, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="Tag definition ids.")
    scores = models.JSONField(default=dict, blank=True, help_text="Score id → value.")
    sync_status = models.CharField(
        max_length=15,
        choices=SyncStatus.choices,
        default=SyncStatus.NOT_PROCESSED,
        # Not indexed alone: the (sync_status, lifecycle) index below serves look-ups by
        # status, and a second index made every change of status dearer.
        help_text="Processed once both its Leads and its Contacts hold its data.",
    )
    lead_pending = models.BooleanField(
        default=True, help_text="Its Leads still need writing this round."
    )
    contact_pending = models.BooleanField(
        default=True, help_text="Its Contacts still need writing this round."
    )
    lead_sync_attempts = models.PositiveIntegerField(default=0)
    contact_sync_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lead_clean_pending = models.BooleanField(
        default=False,
        help_text="Leads may still hold this prospect's data though it no longer applies "
        "(merged, deleted, e-mail changed).",
    )
    contact_clean_pending = models.BooleanField(default=False)
    matched_lead_ids = models.JSONField(default=list, blank=True)
    matched_contact_ids = models.JSONField(default=list, blank=True)
    seq = models.PositiveBigIntegerField(default=0, help_text="The backend's change number.")
    updated_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    objects = ProspectQuerySet.as_manager()

    class Meta:
        verbose_name = "Prospect"
        constraints = [
            models.UniqueConstraint(fields=["backend_id"], name="prospect_backend_id_unique"),
        ]
        indexes = [
            models.Index(fields=["email_key"], name="prospect_email_key"),
            models.Index(fields=["lifecycle"], name="prospect_lifecycle"),
            models.Index(fields=["sync_status", "lifecycle"]),
        ]

    def __str__(self):
        return f"{self.backend_id} <{self.email}>"

    @property
    def is_active(self):
        return self.lifecycle == Lifecycle.ACTIVE

    @staticmethod
    def fetched_state(matchable):
        """The sync state of a prospect just fetched from the backend (the fields a stored row
        takes, for GetProspects' upsert): Not Processed with both sides pending and no attempts
        when it is to be matched (active, with an e-mail), else Processed (nothing to write)."""
        return {
            "sync_status": SyncStatus.NOT_PROCESSED if matchable else SyncStatus.PROCESSED,
            "lead_pending": matchable,
            "contact_pending": matchable,
            "lead_sync_attempts": 0,
            "contact_sync_attempts": 0,
        }


class ActivityType(models.TextChoices):
    PAGE_VISIT = "page_visit", "Page visit"
    FORM_SUBMIT = "form_submit", "Form submit"
    CUSTOM_EVENT = "custom_event", "Custom event"


class ActivityQuerySet(models.QuerySet):
    def mark_synced(self, side):
        """Written as SW Activity records for their prospect's Lead (side "lead") or Contact."""
        return self.update(**{f"{side}_synced": True})


class Activity(models.Model):
    backend_id = models.CharField("SalesWings id", max_length=80)  # unique: see Meta
    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="activities")
    type = models.CharField(max_length=20, choices=ActivityType.choices)
    occurred_at = models.DateTimeField()
    url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    seq = models.PositiveBigIntegerField(default=0)
    lead_synced = models.BooleanField(
        default=False, help_text="Written as SW Activity for the prospect's Lead."
    )
    contact_synced = models.BooleanField(default=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = "Activity"
        verbose_name_plural = "Activities"
        constraints = [
            models.UniqueConstraint(fields=["backend_id"], name="activity_backend_id_unique"),
        ]

    def __str__(self):
        return f"{self.type} {self.backend_id}"

    @property
    def synced(self):
        return self.lead_synced and self.contact_synced


class WaitingActivity(models.Model):
    """An activity whose prospect is not stored yet: read by GetProspectPages before the
    prospect's own item was (it appeared after GetProspects read, or its item was malformed
    and is asked for again). Kept, not skipped: the cursor has moved past it, so it would
    never be read again. Linked (made an `Activity`) once its prospect is stored; dropped,
    counted skipped, after SWSTUDIO_WAITING_ACTIVITY_DAYS (a prospect the backend deleted
    before the sync ever read it)."""

    backend_id = models.CharField("SalesWings id", max_length=80)  # unique: see Meta
    prospect_backend_id = models.CharField("prospect's SalesWings id", max_length=80)
    seq = models.PositiveBigIntegerField(default=0)
    # The activity's fields as GetProspectPages parsed them (`occurred_at` in ISO 8601).
    data = models.JSONField()
    noted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "activity waiting for its prospect"
        verbose_name_plural = "activities waiting for their prospect"
        constraints = [
            models.UniqueConstraint(fields=["backend_id"], name="waiting_activity_backend_id"),
        ]
        indexes = [models.Index(fields=["prospect_backend_id"], name="waiting_activity_prospect")]

    def __str__(self):
        return f"{self.backend_id} (prospect {self.prospect_backend_id})"


class MappedObject(models.TextChoices):
    LEAD = "Lead"
    CONTACT = "Contact"
    ACCOUNT = "Account"
    OPPORTUNITY = "Opportunity"


class FieldMapping(models.Model):
    score = models.ForeignKey(
        ScoreDefinition,
        on_delete=models.CASCADE,
        related_name="mappings",
        help_text="The SalesWings score to write.",
    )
    object = models.CharField("Salesforce object", max_length=20, choices=MappedObject.choices)
    field = models.CharField(
        "field API name",
        max_length=80,
        help_text="A Number field of the object, e.g. SW_Engagement_Score__c. Checked against "
        "the org's describe when saved.",
    )

    class Meta:
        verbose_name = "Field Mapping"
        constraints = [
            models.UniqueConstraint(fields=["score", "object"], name="one_field_per_score_object")
        ]
        ordering = ["object", "field"]

    def __str__(self):
        # The score's name, not its database id (the admin lists select the score with it).
        score = self.score.name if self.score_id else "?"
        return f"{score} → {self.object}.{self.field}"

    @classmethod
    def fields_for(cls, obj):
        """{score backend id: field API name} for one object."""
        return dict(
            cls.objects.filter(object=obj, score__active=True).values_list(
                "score__backend_id", "field"
            )
        )


class SyncCursor(models.Model):
    """A named cursor or watermark. Moved only after the writes it covers are committed."""

    PROSPECTS = "prospects"
    ACTIVITIES = "activities"
    SENDUP = "sendup"

    name = models.CharField(max_length=60, unique=True)
    value = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync cursor"

    def __str__(self):
        return f"{self.name}={self.value}"

    @classmethod
    def get(cls, name, default=""):
        row = cls.objects.filter(name=name).values_list("value", flat=True).first()
        return default if row in (None, "") else row

    @classmethod
    def put(cls, name, value):
        cls.objects.update_or_create(name=name, defaults={"value": str(value)})


class MalformedItemQuerySet(models.QuerySet):
    def pending(self):
        """To ask the backend for again."""
        return self.filter(given_up_at__isnull=True)

    def given_up(self):
        return self.filter(given_up_at__isnull=False)

    # --- state changes ---------------------------------------------------------------------

    def note(self, since, span, backend_id, seq, error):
        """A malformed item read just after `since` (with the `span` - 1 items after it): kept
        to be asked for again. Noted again (the same place read again: a Full
        Synchronization), its attempts are not counted twice."""
        # A NUL character (the very reason some items are malformed) cannot be stored in
        # PostgreSQL's text.
        backend_id, error = (v.replace("\x00", "\ufffd") for v in (backend_id, error))
        self.update_or_create(
            since=since,
            defaults={"span": span, "backend_id": backend_id, "seq": seq, "error": error[:2000]},
        )

    def retried(self, item, error, max_attempts, now):
        """Asked for again and still malformed: one more attempt; given up at `max_attempts`.
        Returns whether it was given up."""
        item.attempts += 1
        item.error = error.replace("\x00", "\ufffd")[:2000]
        if item.attempts >= max_attempts:
            item.given_up_at = now
        item.save(update_fields=["attempts", "error", "given_up_at", "updated_at"])
        return item.given_up_at is not None


class MalformedItem(models.Model):
    """A backend prospect item that could not be read (or only partly: a score that is not a
    number, tags that are not a list...), and where it was: asked for again on later cycles
    (`/prospects?since=<since>&limit=<span>`) until it reads, or given up after the maximum
    sync attempts (then listed on the Prospects admin). The cursor moves past it meanwhile, so
    the rest of the backend is not held up."""

    since = models.PositiveBigIntegerField(
        unique=True, help_text="The item is the first one after this sequence number."
    )
    span = models.PositiveSmallIntegerField(
        default=1, help_text="How many items to read from there (malformed ones in a row)."
    )
    backend_id = models.CharField("SalesWings id", max_length=80, blank=True)
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    given_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MalformedItemQuerySet.as_manager()

    class Meta:
        verbose_name = "malformed backend item"
        ordering = ["since"]

    def __str__(self):
        return f"{self.backend_id or '?'} after seq {self.since}"


class RecordSnapshot(models.Model):
    """The send-up fields of a matched Lead or Contact as the sync last saw or wrote them.

    The send-up sends a record only when one of these differs from what Salesforce now holds,
    so what the sync itself wrote is not echoed back to SalesWings.
    """

    salesforce_id = models.CharField(max_length=18)  # unique: see Meta
    object = models.CharField(max_length=10)
    email = models.CharField(max_length=254, blank=True)
    favorite = models.BooleanField(default=False)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    owner_id = models.CharField(max_length=18, blank=True)
    prospect_id = models.CharField(max_length=80, blank=True)

    SF_FIELDS = {
        "email": "Email",
        "favorite": "SW_Favorite__c",
        "first_name": "FirstName",
        "last_name": "LastName",
        "owner_id": "OwnerId",
        "prospect_id": "SW_Prospect_Id__c",
    }

    class Meta:
        verbose_name = "record snapshot"
        constraints = [
            models.UniqueConstraint(fields=["salesforce_id"], name="snapshot_salesforce_id_unique"),
        ]

    def __str__(self):
        return f"{self.object} {self.salesforce_id}"

    @staticmethod
    def row_of(record):
        """The snapshot fields of a Salesforce record dict, as a list in `SF_FIELDS` order (the
        Match steps' and the send-up's hot path: the fields spelled out, no loop over them)."""
        get = record.get
        return [
            get("Email") or "",
            bool(get("SW_Favorite__c")),
            get("FirstName") or "",
            get("LastName") or "",
            get("OwnerId") or "",
            get("SW_Prospect_Id__c") or "",
        ]


class MatchScanHit(models.Model):
    """A Lead or Contact that a Match step's scan matched to a pending prospect, and how its
    write went; kept only while that step runs.

    In scan mode (steps/matching/scan_mode.py) the step reads the object once in 2,000-row pages and
    writes each page's matches as it goes; a prospect's records may be spread over several
    pages, so its status is settled from these rows once the whole object was read.
    """

    object = models.CharField(max_length=10)
    prospect_pk = models.BigIntegerField(help_text="The owning prospect's primary key.")
    record_id = models.CharField(max_length=18)
    error = models.TextField(blank=True, help_text="Why the record's write failed.")
    attempt = models.BooleanField(
        default=False,
        help_text="The failure counts as a sync attempt (the org refused the record); a call "
        "that failed as a whole (e.g. the org was unreachable) does not.",
    )

    class Meta:
        verbose_name = "match scan hit"
        indexes = [
            models.Index(fields=["object", "prospect_pk"], name="matchhit_obj_prospect"),
        ]

    def __str__(self):
        return f"{self.object} {self.record_id}"


class CleanCandidate(models.Model):
    """A Lead or Contact the send-up found holding a prospect that no longer applies to it.

    The send-up reads every record holding a prospect id that changed in Salesforce since its
    watermark (including the sync's own writes), so while it runs the Clean steps need not scan
    for Salesforce-side edits themselves: they read these records again by Id (the Match step
    may have filled them meanwhile) and clean the ones still obsolete (steps/cleaning.py).
    """

    object = models.CharField(max_length=10)
    salesforce_id = models.CharField(max_length=18)

    class Meta:
        verbose_name = "clean candidate"
        constraints = [
            models.UniqueConstraint(fields=["object", "salesforce_id"], name="one_clean_candidate")
        ]

    def __str__(self):
        return f"{self.object} {self.salesforce_id}"


class HeldRecordQuerySet(models.QuerySet):
    def note(self, obj, part, ids):
        """Record that the sync put its `part` of data on these records of `obj`."""
        bulk.insert(
            HeldRecord,
            [{"object": obj, "part": part, "salesforce_id": i} for i in dict.fromkeys(ids)],
            unique=["object", "part", "salesforce_id"],
        )

    def of(self, obj, part):
        return self.filter(object=obj, part=part)

    def forget(self):
        """The records no longer hold that data (cleared, or gone from the org)."""
        return self.delete()[0]


class HeldRecord(models.Model):
    """An Account or Opportunity the sync wrote SalesWings data on (the Account aggregates,
    the Opportunity tags, the Opportunity scores: `part`).

    When the option behind a part is off, CleanOtherRecords clears exactly these records and
    forgets them: SOQL cannot filter on the long text tags field, so finding the records that
    hold data in the org would mean reading every Account and Opportunity each cycle.
    """

    ACCOUNT_AGGREGATES = "aggregates"
    OPPORTUNITY_TAGS = "tags"
    OPPORTUNITY_SCORES = "scores"

    object = models.CharField(max_length=20)
    part = models.CharField(max_length=10)
    salesforce_id = models.CharField(max_length=18)

    objects = HeldRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "record holding sync data"
        constraints = [
            models.UniqueConstraint(
                fields=["object", "part", "salesforce_id"], name="one_held_record"
            )
        ]

    def __str__(self):
        return f"{self.object} {self.salesforce_id} ({self.part})"
