from django import forms
from django.contrib import admin

from syncapp.models import (
    Activity,
    AsyncJob,
    FieldMapping,
    LoggerOptions,
    NotificationSetting,
    Prospect,
    ScheduledJob,
    ScoreDefinition,
    StudioOptions,
    SWApexJob,
    TagDefinition,
    WorkflowOption,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Machine-written tables: viewable, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StudioOptions)
class StudioOptionsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NotificationSettingForm(forms.ModelForm):
    class Meta:
        model = NotificationSetting
        fields = ["name", "active", "threshold_minutes", "users", "emails"]

    def clean(self):
        cleaned = super().clean()
        no_recipient = not cleaned.get("users") and not (cleaned.get("emails") or "").strip()
        if no_recipient and "emails" not in self.errors:
            self.add_error("emails", "Name at least one recipient: a user or an address.")
        return cleaned


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    form = NotificationSettingForm
    list_display = ["name", "active", "threshold_minutes", "alerted_at"]
    filter_horizontal = ["users"]


@admin.register(WorkflowOption)
class WorkflowOptionAdmin(admin.ModelAdmin):
    list_display = ["step", "enabled", "batch_size"]


@admin.register(SWApexJob)
class SWApexJobAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "trigger", "start_time", "end_time"]
    list_filter = ["status", "trigger"]
    show_full_result_count = False


@admin.register(AsyncJob)
class AsyncJobAdmin(ReadOnlyAdmin):
    list_display = [
        "job_type",
        "status",
        "class_name",
        "total_batches",
        "batches_processed",
        "number_of_errors",
        "submitted_by",
        "created_date",
        "completed_date",
    ]
    list_select_related = ["submitted_by"]
    show_full_result_count = False


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = ["name", "state", "next_fire_time", "previous_fire_time", "times_triggered"]
    list_select_related = ["stats"]


# --- the local mirror and the sync's settings records -------------------------------------------


@admin.register(FieldMapping)
class FieldMappingAdmin(admin.ModelAdmin):
    """Saving checks the field against the org's describe (FieldMapping.clean)."""

    list_display = ["score", "object", "field"]
    list_filter = ["object"]
    list_select_related = ["score"]


@admin.register(LoggerOptions)
class LoggerOptionsAdmin(admin.ModelAdmin):
    list_display = ["logger", "level", "ship_to_backend"]


@admin.register(TagDefinition)
class TagDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "backend_id", "active"]
    list_filter = ["active"]


@admin.register(ScoreDefinition)
class ScoreDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "backend_id", "active"]
    list_filter = ["active"]


@admin.register(Prospect)
class ProspectAdmin(ReadOnlyAdmin):
    list_display = [
        "backend_id",
        "email",
        "lifecycle",
        "sync_status",
        "lead_sync_attempts",
        "contact_sync_attempts",
        "last_error",
    ]
    list_filter = ["sync_status", "lifecycle"]
    search_fields = ["=backend_id", "email_key"]
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["backend_id", "type", "occurred_at", "lead_synced", "contact_synced"]
    list_filter = ["type"]
    list_select_related = ["prospect"]
    show_full_result_count = False
