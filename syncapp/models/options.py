"""Settings records: Studio Options (one), Notification Settings (many), Workflow Options."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    EmailValidator,
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
)
from django.db import models, transaction
from django.utils import timezone


class BoundedCountField(models.PositiveIntegerField):
    """A count between the bounds its validators set, which its form field takes too: -1 is
    refused with the same "at least 1" as 0 (not Django's "at least 0" first), and a value
    past the upper bound before it reaches date arithmetic (the Enqueuer's `now + gap`)."""

    def formfield(self, **kwargs):
        lows = [v.limit_value for v in self.validators if isinstance(v, MinValueValidator)]
        highs = [v.limit_value for v in self.validators if isinstance(v, MaxValueValidator)]
        bounds = {}
        if lows:
            bounds["min_value"] = max(lows)
        if highs:
            bounds["max_value"] = min(highs)
        return super().formfield(**{**bounds, **kwargs})


class SingletonModel(models.Model):
    """A settings record that exists exactly once (pk 1)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class StudioOptions(SingletonModel):
    sync_gap_minutes = BoundedCountField(
        "Sync Gap (mins.)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text="Minutes between the end of one synchronization cycle and the start of the "
        "next (the SalesWings Studio : Runner fires this long after each cycle): 1 to 10,080, "
        "a week.",
    )
    apex_jobs_threshold = BoundedCountField(
        "Apex Jobs Number Threshold",
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="How many SW Apex Job records (one per cycle) to keep. The Watcher deletes "
        "the oldest ones beyond this number each time it runs (every minute).",
    )
    api_endpoint = models.CharField(
        "API Endpoint",
        max_length=255,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Base URL of the SalesWings backend API, e.g. https://api.saleswings.pro. "
        "Leave empty to use the SALESWINGS_API_URL setting (the sandbox by default).",
    )
    account_aggregation = models.BooleanField(
        "Account Aggregation",
        default=False,
        help_text="Roll contacts' tags, scores and temperature up to their Account.",
    )
    activity_sync = models.BooleanField(
        "SW Activity Data",
        default=False,
        help_text="Also synchronize prospects' activities (page visits, form submissions, "
        "custom events) as SW Activity records.",
    )
    disable_triggers = models.BooleanField(
        "Disable Triggers",
        default=False,
        help_text="Stop sending Lead and Contact changes made in Salesforce back to SalesWings.",
    )
    opportunity_tags = models.BooleanField(
        "Opportunity Tags",
        default=False,
        help_text="Copy the Account's aggregated tags to its Opportunities "
        "(needs Account Aggregation).",
    )
    opportunity_scores = models.BooleanField(
        "Opportunity Scores",
        default=False,
        help_text="Copy the Account's aggregated scores to its Opportunities "
        "(needs Account Aggregation).",
    )
    full_sync_requested = models.BooleanField(
        "Full Synchronization",
        default=False,
        help_text="Recalculate everything on the next cycle. Switched off automatically once "
        "that cycle has run.",
    )
    full_sync_requested_at = models.DateTimeField(
        "Full Synchronization requested at", null=True, blank=True, editable=False
    )
    full_sync_consumed_at = models.DateTimeField(
        "Full Synchronization last run at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the last requested Full Synchronization was carried out.",
    )
    max_sync_attempts = BoundedCountField(
        "Maximum sync attempts",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many cycles in a row may fail to write a prospect to its Lead or "
        "Contact before it is given up (a Full Synchronization tries it again).",
    )
    api_call_reserve = BoundedCountField(
        "Daily API call reserve",
        default=1000,
        help_text="A cycle does not start while the org has fewer daily API calls left than "
        "this, so other integrations keep room to work.",
    )

    class Meta:
        verbose_name = "Studio Options"
        verbose_name_plural = "Studio Options"

    def __str__(self):
        return "SW Studio Options"

    def clean(self):
        errors = {}
        if (self.opportunity_tags or self.opportunity_scores) and not self.account_aggregation:
            msg = "Needs Account Aggregation: opportunities get the Account's aggregated values."
            if self.opportunity_tags:
                errors["opportunity_tags"] = msg
            if self.opportunity_scores:
                errors["opportunity_scores"] = msg
        if errors:
            raise ValidationError(errors)

    @classmethod
    def set_full_sync_request(cls, requested, now=None):
        """Queue (or withdraw) a Full Synchronization for the next cycle.

        Locks the row like `consume_full_sync`: a request made while a cycle runs carries a
        time after that cycle's start, so it is left for the next cycle. Returns False when
        nothing changed.
        """
        with transaction.atomic():
            cls.load()
            options = cls.objects.select_for_update().get(pk=1)
            if options.full_sync_requested == requested:
                return False
            options.full_sync_requested = requested
            options.full_sync_requested_at = (now or timezone.now()) if requested else None
            options.save(update_fields=["full_sync_requested", "full_sync_requested_at"])
        return True

    @classmethod
    def consume_full_sync(cls, cycle_created, now):
        """A cycle created at `cycle_created` carried out the Full Synchronization: withdraw
        the request it ran for (one made after it was created is for the next cycle)."""
        with transaction.atomic():
            options = cls.objects.select_for_update().get(pk=1)
            requested = options.full_sync_requested_at
            if options.full_sync_requested and (requested is None or requested <= cycle_created):
                options.full_sync_requested = False
            options.full_sync_consumed_at = now
            options.save(update_fields=["full_sync_requested", "full_sync_consumed_at"])


def validate_email_list(value):
    validator = EmailValidator()
    for address in split_emails(value):
        try:
            validator(address)
        except ValidationError as exc:
            raise ValidationError(f"“{address}” is not a valid e-mail address.") from exc


def split_emails(value):
    """The addresses of a list separated by commas, semicolons, spaces or new lines (an
    address holds none of them)."""
    return [part for part in re.split(r"[,;\s]+", value or "") if part]


class NotificationSetting(models.Model):
    name = models.CharField(
        max_length=80, help_text="A name for this rule, e.g. “Ops on-call after 3 hours”."
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        verbose_name="users to notify",
        help_text="Users who receive the e-mail (at their account's address).",
    )
    emails = models.TextField(
        "other e-mail addresses",
        blank=True,
        validators=[validate_email_list],
        help_text="More recipients, separated by commas, semicolons or new lines.",
    )
    threshold_minutes = BoundedCountField(
        "minutes without a completed cycle",
        default=180,
        validators=[MinValueValidator(1), MaxValueValidator(30 * 24 * 60)],
        help_text="Alert when no cycle has completed for this many minutes while the sync is "
        "on. One e-mail when it happens and one when the sync recovers.",
    )
    active = models.BooleanField(default=True)
    alerted_at = models.DateTimeField(
        "alert sent at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the outage alert went out; cleared by the recovery e-mail.",
    )

    class Meta:
        verbose_name = "Notification Setting"
        verbose_name_plural = "Notification Settings"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def recipients(self):
        addresses = [u.email for u in self.users.all() if u.email and u.is_active]
        addresses += split_emails(self.emails)
        return sorted(set(addresses))


class WorkflowOption(models.Model):
    step = models.CharField(
        max_length=80, unique=True, help_text="The workflow step, e.g. GetProspects."
    )
    enabled = models.BooleanField(
        default=True, help_text="Turn a step off to leave it out of every cycle."
    )
    # Empty: the step's own default (5,000 for GetProspects, 1,000 for most steps: each
    # step's `default_batch_size`), so a row made only to turn a step off or on keeps it.
    batch_size = BoundedCountField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50_000)],
        help_text="Records per batch; leave empty for the step's own default (shown with the "
        "step). Writes to Salesforce go 200 at a time whatever this is.",
    )

    class Meta:
        verbose_name = "Workflow Option"
        verbose_name_plural = "Workflow Options"
        ordering = ["id"]

    def __str__(self):
        return f"SWJob{self.step}"
