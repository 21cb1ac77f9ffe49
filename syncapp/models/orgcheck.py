"""The kept results of the org check (`manage.py checkorg`, the Setup page's Org check, the
cycle's preflight): what the org lacks for the sync, and when that was seen.

Pages show the last one and never ask the org; the check itself is
`syncapp.engine.org_check`.
"""

from django.conf import settings
from django.db import models

# How many results are kept (the newest); older ones are deleted as new ones come.
KEEP = 20


class OrgCheckQuerySet(models.QuerySet):
    def finished(self):
        return self.exclude(status=OrgCheck.Status.QUEUED)

    def last_finished(self):
        return self.finished().order_by("-finished_at", "-pk").first()

    def prune(self, keep=KEEP):
        """Delete all but the `keep` newest results."""
        newest = list(self.order_by("-pk").values_list("pk", flat=True)[:keep])
        if newest:
            self.filter(pk__lt=min(newest)).delete()


class OrgCheck(models.Model):
    class Status(models.TextChoices):
        QUEUED = "Queued"
        PASSED = "Passed"  # nothing blocks the sync (warnings may remain)
        GAPS = "Gaps"  # something the sync needs is missing or not editable
        UNREACHABLE = "Unreachable"  # the org did not answer or refused the login

    class Source(models.TextChoices):
        SETUP = "setup", "Setup page"
        COMMAND = "command", "manage.py checkorg"
        PREFLIGHT = "preflight", "before a cycle"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=10, choices=Source.choices)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the org could not be checked.")
    # [{"severity": "error" | "warning", "object", "field", "problem", "fix"}]
    findings = models.JSONField(default=list, blank=True)
    # API version, daily API calls, the integration user: what the org said about itself.
    facts = models.JSONField(default=dict, blank=True)
    # What was required (options and Field Mappings): a result checked against other
    # requirements does not vouch for the current ones.
    fingerprint = models.CharField(max_length=64, blank=True)

    objects = OrgCheckQuerySet.as_manager()

    class Meta:
        verbose_name = "org check"
        ordering = ["-pk"]

    def __str__(self):
        return f"Org check {self.pk}: {self.status}"

    @property
    def blocking(self):
        return [f for f in self.findings if f.get("severity") == "error"]

    @property
    def warnings(self):
        return [f for f in self.findings if f.get("severity") != "error"]

    def record(self, *, reachable, error, findings, facts, fingerprint, now):
        """Keep the outcome of the check this row was made for."""
        if not reachable:
            self.status = self.Status.UNREACHABLE
        elif any(f.get("severity") == "error" for f in findings):
            self.status = self.Status.GAPS
        else:
            self.status = self.Status.PASSED
        self.error = error
        self.findings = findings
        self.facts = facts
        self.fingerprint = fingerprint
        self.finished_at = now
