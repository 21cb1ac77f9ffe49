"""The sandbox's own tables: a SalesWings backend world, a Salesforce org, and the knobs.

Nothing here is imported by the product (`syncapp/`). Salesforce records live in one table
per object with typed columns; the Salesforce Id is derived from the integer primary key
(`sandbox.ids`), so creating a record needs no extra round-trip and looking one up by Id is
a primary-key lookup.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .ids import make_id

RATE = [MinValueValidator(0.0), MaxValueValidator(1.0)]
RULE_KEYS = {"object", "emailPattern", "share", "message", "fields"}


def validate_rules(value):
    """Validation rules: a list of objects with known keys and sane values."""
    if not isinstance(value, list):
        raise ValidationError("Validation rules must be a list of objects.")
    for i, rule in enumerate(value):
        if not isinstance(rule, dict):
            raise ValidationError(f"Rule {i} must be an object.")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise ValidationError(f"Rule {i} has unknown keys: {', '.join(sorted(unknown))}.")
        share = rule.get("share")
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1
        ):
            raise ValidationError(f"Rule {i}: share must be a number from 0 to 1.")
        for key in ("object", "emailPattern", "message"):
            if rule.get(key) is not None and not isinstance(rule[key], str):
                raise ValidationError(f"Rule {i}: {key} must be a string.")
        fields = rule.get("fields")
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise ValidationError(f"Rule {i}: fields must be a list of field names.")


FIELD_ACCESS = ("read", "none")


def validate_field_security(value):
    if not isinstance(value, dict):
        raise ValidationError('Field security must be an object {"Object.Field": "read"}.')
    for key, access in value.items():
        if not isinstance(key, str) or key.count(".") != 1 or not all(key.split(".")):
            raise ValidationError(f"Field security: {key!r} is not Object.Field.")
        if access not in FIELD_ACCESS:
            raise ValidationError(f'Field security of {key}: "read" or "none", not {access!r}.')


def validate_missing_metadata(value):
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.endswith("__c") and v.count(".") <= 1 for v in value
    ):
        raise ValidationError(
            'Missing metadata: a list of custom objects ("SW_Activity__c") and custom fields '
            '("Lead.SW_Tags__c").'
        )


# --- control -------------------------------------------------------------------------------


class SandboxSettings(models.Model):
    """One row: credentials the stand-ins accept and the faults they inject.

    Stored in the database so every web process (gunicorn workers, the test live server)
    sees the same configuration; each request reads it once.
    """

    # Credentials ------------------------------------------------------------------------
    saleswings_token = models.CharField(
        "SalesWings API token",
        max_length=100,
        help_text="The bearer token the SalesWings stand-in accepts.",
    )
    sf_username = models.CharField("Salesforce username", max_length=100)
    sf_password = models.CharField("Salesforce password", max_length=100)
    sf_client_id = models.CharField("Salesforce client id (consumer key)", max_length=100)
    sf_client_secret = models.CharField(
        "Salesforce client secret (consumer secret)", max_length=100
    )
    sf_jwt_certificate = models.TextField(
        "Salesforce connected app certificate (PEM)",
        blank=True,
        help_text="The X.509 certificate the JWT bearer grant's RS256 signatures are checked "
        "against (the connected app's 'Use digital signatures'). Empty: the grant is refused.",
    )

    # Salesforce faults ------------------------------------------------------------------
    validation_rules = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_rules],
        help_text=(
            "A list of rules; a record written (created, updated, upserted) that matches one is "
            'rejected with FIELD_CUSTOM_VALIDATION_EXCEPTION. Each rule: {"object": "Lead" or '
            '"*", "emailPattern": "*@blocked.example" (fnmatch, case-insensitive, optional), '
            '"share": 0.1 (optional: this share of records, chosen by a stable hash of the '
            'record), "message": "..."}.'
        ),
    )
    lock_row_rate = models.FloatField(
        "UNABLE_TO_LOCK_ROW rate",
        default=0.0,
        validators=RATE,
        help_text="Share (0-1) of written records that fail with UNABLE_TO_LOCK_ROW.",
    )
    server_error_rate = models.FloatField(
        "5xx rate",
        default=0.0,
        validators=RATE,
        help_text="Share (0-1) of Salesforce API calls answered 5xx.",
    )
    server_error_status = models.PositiveSmallIntegerField(
        "5xx status",
        default=503,
        validators=[MinValueValidator(500), MaxValueValidator(599)],
        help_text="The status of injected 5xx answers (500-599).",
    )
    latency_ms = models.PositiveIntegerField(
        "added latency (ms)", default=0, help_text="Added to every Salesforce API call."
    )
    session_expiry_calls = models.PositiveIntegerField(
        "session expires after N calls",
        null=True,
        blank=True,
        help_text="A session answers 401 INVALID_SESSION_ID once it has made this many calls. "
        "Empty: sessions never expire.",
    )
    daily_api_limit = models.PositiveIntegerField(
        "daily API limit",
        default=100000,
        help_text="DailyApiRequests Max. Once used up, every call answers 403 "
        "REQUEST_LIMIT_EXCEEDED until the counters are reset.",
    )

    # SalesWings faults and world ----------------------------------------------------------
    sw_error_rate = models.FloatField(
        "SalesWings 5xx rate",
        default=0.0,
        validators=RATE,
        help_text="Share (0-1) of calls answered 503.",
    )
    sw_rate_limit_rate = models.FloatField(
        "SalesWings 429 rate",
        default=0.0,
        validators=RATE,
        help_text="Share (0-1) of calls answered 429.",
    )
    sw_latency_ms = models.PositiveIntegerField("SalesWings added latency (ms)", default=0)
    sw_malformed_rate = models.FloatField(
        "SalesWings malformed prospect rate",
        default=0.0,
        validators=RATE,
        help_text="Share (0-1) of the prospect items of GET /prospects served malformed (not "
        "an object, no id, a bad seq, or NaN scores), chosen by a stable hash of the "
        "prospect's id and seq.",
    )
    auto_churn = models.BooleanField(
        default=True,
        help_text="Advance the SalesWings world (visits, tags, scores, merges, deletions) when "
        "the prospects are read incrementally (since > 0), at most once per churn interval.",
    )
    churn_interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1)]
    )
    churn_size = models.PositiveIntegerField(
        default=25, help_text="Prospects touched by one automatic churn."
    )
    last_churn_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The org's metadata and the integration user's access ------------------------------
    field_security = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_field_security],
        help_text='Field-level security of the integration user, by "Object.Field": "read" '
        "(readable, not editable: describe says not createable / updateable, a write naming "
        'it fails per record with INVALID_FIELD_FOR_INSERT_UPDATE) or "none" (absent from '
        "describe, unknown to SOQL and to writes). Fields not named are read/write.",
    )
    missing_metadata = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_missing_metadata],
        help_text='Custom objects ("SW_Activity__c") and fields ("Lead.SW_Tags__c") not '
        "deployed in the org: absent from describe, unknown to SOQL and to writes. "
        "`manage.py sandbox seed --bare` lists every SalesWings one.",
    )

    class Meta:
        verbose_name = "sandbox settings and faults"
        verbose_name_plural = "sandbox settings and faults"

    def __str__(self):
        return "Sandbox settings"


class Counter(models.Model):
    """A named counter (API calls, faults by kind, records written...)."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "sandbox counter"

    def __str__(self):
        return f"{self.name} = {self.value}"


class SfSession(models.Model):
    """An access token issued by the OAuth stand-in."""

    token = models.CharField(max_length=120, primary_key=True)
    username = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "Salesforce session"

    def __str__(self):
        return self.token[:24] + "…"


class SfQueryCursor(models.Model):
    """A query's snapshot of matching record keys, for nextRecordsUrl paging."""

    created_at = models.DateTimeField(db_index=True)
    soql = models.TextField()
    sobject = models.CharField(max_length=60)
    fields = models.JSONField()
    pks = models.BinaryField()
    total = models.PositiveIntegerField()
    include_deleted = models.BooleanField(default=False)
    page_size = models.PositiveIntegerField(default=2000)
    # Salesforce keeps 10 open cursors per user: its 11th releases the oldest still open.
    username = models.CharField(max_length=100, blank=True, db_index=True)
    done = models.BooleanField(default=False, help_text="Its last page was served.")

    # --- SalesWings backend world ---------------------------------------------------------------

    def __str__(self):
        return f"cursor {self.pk} ({self.sobject}, {self.total})"


class SwTag(models.Model):
    id = models.CharField(max_length=60, primary_key=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = "SalesWings tag"

    def __str__(self):
        return self.name


class SwScore(models.Model):
    id = models.CharField(max_length=60, primary_key=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = "SalesWings score"

    def __str__(self):
        return self.name


class SwProspect(models.Model):
    id = models.CharField(max_length=40, primary_key=True)
    seq = models.BigIntegerField(unique=True)
    email = models.CharField(max_length=255)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    lifecycle = models.CharField(max_length=10, default="Active")
    merged_into = models.CharField(max_length=40, null=True, blank=True)
    temperature = models.CharField(max_length=10, null=True, blank=True)
    last_visit = models.DateTimeField(null=True, blank=True)
    favorite = models.BooleanField(default=False)
    assignee = models.CharField(max_length=255, null=True, blank=True)
    tags = models.JSONField(default=list)
    scores = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "SalesWings prospect"

    def __str__(self):
        return f"{self.id} {self.email}"


class SwActivity(models.Model):
    id = models.CharField(max_length=40, primary_key=True)
    seq = models.BigIntegerField(unique=True)
    prospect_id = models.CharField(max_length=40, db_index=True)
    type = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    url = models.TextField(blank=True)
    title = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict)

    class Meta:
        verbose_name = "SalesWings activity"
        verbose_name_plural = "SalesWings activities"

    def __str__(self):
        return f"{self.id} {self.type}"


class SwReceived(models.Model):
    """What the product sent up: metrics, log entries, Salesforce-side changes."""

    KINDS = [("metrics", "metrics"), ("log", "log entry"), ("change", "Salesforce change")]
    kind = models.CharField(max_length=10, choices=KINDS, db_index=True)
    received_at = models.DateTimeField()
    body = models.JSONField()

    class Meta:
        verbose_name = "received by the SalesWings stand-in"
        verbose_name_plural = "received by the SalesWings stand-in"

    # --- Salesforce org -------------------------------------------------------------------------

    def __str__(self):
        return f"{self.kind} at {self.received_at}"


class SfRecord(models.Model):
    id = models.BigAutoField(primary_key=True)
    created_date = models.DateTimeField()
    last_modified_date = models.DateTimeField()
    # Not indexed on purpose: every write moves a record's SystemModstamp, and with random
    # old values each of a collection's 200 updates would rewrite a different index page, a
    # large part of a PATCH's write time. The change poll scans instead, once a cycle.
    system_modstamp = models.DateTimeField()
    is_deleted = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def sf_id(self):
        from .schema import SOBJECTS

        prefix = next(s.prefix for s in SOBJECTS.values() if s.model is type(self))
        return make_id(prefix, self.pk)


class SwFields(models.Model):
    sw_prospect_id = models.CharField(max_length=40, null=True, blank=True, db_index=True)
    sw_tags = models.TextField(null=True, blank=True)
    sw_temperature = models.CharField(max_length=10, null=True, blank=True)
    sw_last_visit = models.DateTimeField(null=True, blank=True)
    sw_favorite = models.BooleanField(default=False)
    sw_engagement_score = models.FloatField(null=True, blank=True)
    sw_fit_score = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True


class SfUser(SfRecord):
    first_name = models.CharField(max_length=40, null=True, blank=True)
    last_name = models.CharField(max_length=80)
    name = models.CharField(max_length=121)
    email = models.CharField(max_length=80)
    username = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.sf_id


class SfGroup(SfRecord):
    """Group: the org's queues (Type "Queue"), which can own Leads (Ids 00G...)."""

    name = models.CharField(max_length=40)
    developer_name = models.CharField(max_length=80)
    type = models.CharField(max_length=40, default="Queue")

    def __str__(self):
        return self.sf_id


class SfLead(SfRecord, SwFields):
    first_name = models.CharField(max_length=40, null=True, blank=True)
    last_name = models.CharField(max_length=80)
    email = models.CharField(max_length=80, null=True, blank=True)
    # Salesforce compares e-mails case-insensitively; this indexed copy serves `Email = x`
    # and `Email IN (...)` without a table scan.
    email_lower = models.CharField(max_length=80, null=True, blank=True, db_index=True)
    company = models.CharField(max_length=255)
    status = models.CharField(max_length=40, default="Open - Not Contacted")
    is_converted = models.BooleanField(default=False)
    converted_date = models.DateField(null=True, blank=True)
    converted_contact_id = models.CharField(max_length=18, null=True, blank=True)
    converted_account_id = models.CharField(max_length=18, null=True, blank=True)
    owner_id = models.CharField(max_length=18, null=True, blank=True)

    def __str__(self):
        return self.sf_id


class SfContact(SfRecord, SwFields):
    first_name = models.CharField(max_length=40, null=True, blank=True)
    last_name = models.CharField(max_length=80)
    email = models.CharField(max_length=80, null=True, blank=True)
    email_lower = models.CharField(max_length=80, null=True, blank=True, db_index=True)
    account_id = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    owner_id = models.CharField(max_length=18, null=True, blank=True)

    def __str__(self):
        return self.sf_id


class SfAccount(SfRecord):
    name = models.CharField(max_length=255)
    owner_id = models.CharField(max_length=18, null=True, blank=True)
    sw_tags = models.TextField(null=True, blank=True)
    sw_temperature = models.CharField(max_length=10, null=True, blank=True)
    sw_engagement_score = models.FloatField(null=True, blank=True)
    sw_fit_score = models.FloatField(null=True, blank=True)

    def __str__(self):
        return self.sf_id


class SfOpportunity(SfRecord):
    name = models.CharField(max_length=120)
    account_id = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    stage_name = models.CharField(max_length=40)
    close_date = models.DateField()
    owner_id = models.CharField(max_length=18, null=True, blank=True)
    sw_tags = models.TextField(null=True, blank=True)
    sw_engagement_score = models.FloatField(null=True, blank=True)
    sw_fit_score = models.FloatField(null=True, blank=True)

    def __str__(self):
        return self.sf_id


class SfActivity(SfRecord):
    """SW_Activity__c."""

    name = models.CharField(max_length=80, null=True, blank=True)
    sw_activity_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    sw_prospect_id = models.CharField(max_length=40, null=True, blank=True, db_index=True)
    lead = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    contact = models.CharField(max_length=18, null=True, blank=True, db_index=True)
    type = models.CharField(max_length=40, null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    url = models.TextField(null=True, blank=True)
    title = models.CharField(max_length=255, null=True, blank=True)

    def __str__(self):
        return self.sf_id
