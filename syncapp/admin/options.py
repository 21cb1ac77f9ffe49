"""Settings records: Studio Options (one record), Notification Settings, Workflow Options."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from syncapp.admin.base import SWStudioMedia
from syncapp.engine.backend import insecure_endpoint_problem
from syncapp.engine.steps import get_step, workflow
from syncapp.models import Credential, NotificationSetting, StudioOptions, WorkflowOption
from syncapp.models.options import MAX_RECIPIENTS, split_emails


class StudioOptionsForm(forms.ModelForm):
    class Meta:
        model = StudioOptions
        fields = ["api_endpoint"]  # the admin's fieldsets add the others

    def clean_api_endpoint(self):
        url = (self.cleaned_data.get("api_endpoint") or "").strip()
        # Other schemes and malformed URLs: the field's URL validator says so.
        problem = insecure_endpoint_problem(url) if url.lower().startswith("http://") else ""
        if problem:
            raise forms.ValidationError(problem)
        return url


@admin.register(StudioOptions)
class StudioOptionsAdmin(admin.ModelAdmin):
    """One record: the list page opens it; it cannot be added or deleted."""

    Media = SWStudioMedia
    form = StudioOptionsForm
    fieldsets = [
        (
            "Schedule",
            {
                "fields": ["sync_gap_minutes", "apex_jobs_threshold"],
            },
        ),
        (
            "SalesWings backend",
            {"fields": ["api_endpoint"]},
        ),
        (
            "What is synchronized",
            {
                "fields": [
                    "account_aggregation",
                    "opportunity_tags",
                    "opportunity_scores",
                    "activity_sync",
                    "disable_triggers",
                ]
            },
        ),
        (
            "Limits",
            {"fields": ["max_sync_attempts", "api_call_reserve"]},
        ),
        (
            "Full Synchronization",
            {
                "description": "Requested and withdrawn on the Setup page.",
                "fields": [
                    "full_sync_requested",
                    "full_sync_requested_at",
                    "full_sync_consumed_at",
                    "setup_link",
                ],
            },
        ),
    ]
    readonly_fields = [
        "full_sync_requested",
        "full_sync_requested_at",
        "full_sync_consumed_at",
        "setup_link",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The stored token was checked with the old endpoint: it must not follow the change
        # to another host, so it goes, and the administrator connects again.
        if "api_endpoint" in form.changed_data and Credential.forget(Credential.SALESWINGS_TOKEN):
            messages.warning(
                request,
                "The API Endpoint changed, so the stored SalesWings token was deleted: connect "
                "again on the Setup page with a token for the new endpoint.",
            )

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        options = StudioOptions.load()
        return HttpResponseRedirect(
            reverse("admin:syncapp_studiooptions_change", args=[options.pk])
        )

    @admin.display(description="Setup page")
    def setup_link(self, obj):
        url = reverse("admin:swstudio_setup") + "#full-sync"
        return format_html('<a href="{}">Request or withdraw a Full Synchronization</a>', url)


class NotificationSettingForm(forms.ModelForm):
    class Meta:
        model = NotificationSetting
        fields = ["name", "active", "threshold_minutes", "users", "emails"]

    def clean(self):
        cleaned = super().clean()
        no_recipient = not cleaned.get("users") and not (cleaned.get("emails") or "").strip()
        if no_recipient and "emails" not in self.errors:
            self.add_error("emails", "Name at least one recipient: a user or an address.")
        count = len(cleaned.get("users") or []) + len(
            {e.lower() for e in split_emails(cleaned.get("emails"))}
        )
        if count > MAX_RECIPIENTS and "emails" not in self.errors:
            self.add_error(
                "emails",
                f"At most {MAX_RECIPIENTS} recipients (users and addresses together); this "
                f"names {count}.",
            )
        return cleaned


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    form = NotificationSettingForm
    list_display = ["name", "active", "threshold_minutes", "recipients_display", "alerted_at"]
    list_filter = ["active"]
    search_fields = ["name", "emails"]
    filter_horizontal = ["users"]
    fieldsets = [
        (None, {"fields": ["name", "active"]}),
        ("When", {"fields": ["threshold_minutes"]}),
        (
            "Who",
            {
                "description": "At least one recipient: a user, an address, or both.",
                "fields": ["users", "emails"],
            },
        ),
        ("Status", {"fields": ["alerted_at"]}),
    ]
    readonly_fields = ["alerted_at"]

    def get_queryset(self, request):
        # Counting users in the query keeps the list at a constant number of queries.
        return super().get_queryset(request).annotate(user_count=Count("users"))

    @admin.display(description="recipients")
    def recipients_display(self, obj):
        users = getattr(obj, "user_count", None)
        if users is None:
            users = obj.users.count()
        addresses = len(split_emails(obj.emails))
        parts = []
        if users:
            parts.append(f"{users} user{'s' if users != 1 else ''}")
        if addresses:
            parts.append(f"{addresses} address{'es' if addresses != 1 else ''}")
        return " + ".join(parts) or "—"


def step_choices():
    return [
        (step.name, f"{step.class_name} (batch size {step.default_batch_size:,} by default)")
        for step in workflow()
    ]


class WorkflowOptionForm(forms.ModelForm):
    step = forms.TypedChoiceField(
        label="Step",
        choices=step_choices,
        # Plain text: the admin renders help text as HTML, where "<Step>" would vanish.
        help_text="The workflow step these options apply to (its Apex Job is SWJob followed "
        "by the step's name, e.g. SWJobGetTags).",
    )

    class Meta:
        model = WorkflowOption
        fields = ["step", "enabled", "batch_size"]

    def clean(self):
        data = super().clean()
        try:
            step = get_step(data.get("step"))
        except KeyError:  # refused on its own field already, or a step that left the workflow
            return data
        if step.required and not data.get("enabled"):
            self.add_error(
                "enabled",
                f"{step.class_name} runs in every cycle (the Finalizer and the Enqueuer close "
                "it and schedule the next): it cannot be turned off.",
            )
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = {value for value, _ in step_choices()}
        current = self.instance.step if self.instance and self.instance.pk else None
        if current and current not in known:
            # A step removed from the workflow: keep it visible so the record can be fixed.
            self.fields["step"].choices = [
                *step_choices(),
                (current, f"SWJob{current} (not in the workflow)"),
            ]


@admin.register(WorkflowOption)
class WorkflowOptionAdmin(admin.ModelAdmin):
    form = WorkflowOptionForm
    list_display = ["__str__", "enabled", "batch"]
    list_filter = ["enabled"]
    fieldsets = [(None, {"fields": ["step", "enabled", "batch_size"]})]

    @admin.display(description="Batch size", ordering="batch_size")
    def batch(self, option):
        if option.batch_size:
            return f"{option.batch_size:,}"
        try:
            return f"{get_step(option.step).default_batch_size:,} (the step's default)"
        except KeyError:  # a step that left the workflow
            return "the step's default"
