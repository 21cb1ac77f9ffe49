"""What SW Studio last learned about the connected Salesforce org, with when.

Pages and the API read this row and never ask the org themselves: cycles refresh it from the
Sforce-Limit-Info header of the calls they make anyway, and the Setup page's interactive
check (a short timeout, no retries) refreshes it on an administrator's request.
"""

from django.db import models


class OrgStatus(models.Model):
    """One row (pk=1): the org's identity and daily API usage, each with its time."""

    # The last check's outcome: an interactive check sets both; a cycle that reached the org
    # sets `connected` and clears `error`.
    connected = models.BooleanField(default=False)
    error = models.TextField(blank=True, help_text="Why the last check failed; empty if it worked.")
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the org was last reached or tried."
    )
    # Identity, as of `identity_at`.
    org_id = models.CharField(max_length=18, blank=True)
    instance_url = models.CharField(max_length=300, blank=True)
    username = models.CharField(max_length=200, blank=True)
    identity_at = models.DateTimeField(null=True, blank=True)
    # The org's daily API requests (DailyApiRequests / Sforce-Limit-Info), as of `api_usage_at`.
    api_calls_used = models.PositiveIntegerField(null=True, blank=True)
    api_calls_limit = models.PositiveIntegerField(null=True, blank=True)
    api_usage_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "org status"
        verbose_name_plural = "org status"

    def __str__(self):
        return self.org_id or "Salesforce org"

    @classmethod
    def load(cls):
        """The kept status; an unsaved, never-checked one when there is none yet."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def api_calls_left(self):
        """The org's daily API calls left as last seen, or None when unknown."""
        if self.api_calls_used is None or self.api_calls_limit is None:
            return None
        return max(0, self.api_calls_limit - self.api_calls_used)

    @property
    def api_calls_percent(self):
        if self.api_calls_used is None or not self.api_calls_limit:
            return None
        return round(100 * self.api_calls_used / self.api_calls_limit)

    @classmethod
    def record_check(cls, now, *, identity=None, error=""):
        """An interactive check's outcome: the identity (a dict with org_id, instance_url,
        username, daily_used, daily_max) when it worked, else why not."""
        values = {"checked_at": now, "connected": not error, "error": error}
        if identity is not None:
            values.update(
                org_id=identity.get("org_id") or "",
                instance_url=identity.get("instance_url") or "",
                username=identity.get("username") or "",
                identity_at=now,
            )
            used, limit = identity.get("daily_used"), identity.get("daily_max")
            if isinstance(used, int) and isinstance(limit, int):
                values.update(api_calls_used=used, api_calls_limit=limit, api_usage_at=now)
        cls.objects.update_or_create(pk=1, defaults=values)

    @classmethod
    def record_seen(cls, now, *, org_id="", instance_url="", username="", api_usage=None):
        """What a cycle's client saw while working: the org answered, so it is connected.
        `api_usage` is (used, limit) from the last Sforce-Limit-Info header, or None."""
        values = {"checked_at": now, "connected": True, "error": ""}
        if org_id:
            values.update(
                org_id=org_id, instance_url=instance_url, username=username, identity_at=now
            )
        if api_usage is not None:
            used, limit = api_usage
            values.update(api_calls_used=used, api_calls_limit=limit, api_usage_at=now)
        cls.objects.update_or_create(pk=1, defaults=values)
