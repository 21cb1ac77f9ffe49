"""The local mirror of SalesWings data: machine-written by the workflow steps, read-only."""

from django.contrib import admin, messages
from django.db import models

from syncapp.admin.base import ReadOnlyAdmin
from syncapp.models import Activity, MalformedItem, Prospect, ScoreDefinition, TagDefinition

UNREADABLE_LISTED = 20


@admin.register(TagDefinition)
class TagDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "backend_id", "active"]
    list_filter = ["active"]
    search_fields = ["name", "backend_id"]


@admin.register(ScoreDefinition)
class ScoreDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "backend_id", "active"]
    list_filter = ["active"]
    search_fields = ["name", "backend_id"]


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

    def changelist_view(self, request, extra_context=None):
        # Backend items GetProspects could not read after the maximum attempts: their change
        # is not in the mirror (a prospect stored earlier shows the message as its last error).
        given_up = list(MalformedItem.objects.given_up()[: UNREADABLE_LISTED + 1])
        for item in given_up[:UNREADABLE_LISTED]:
            messages.warning(
                request,
                f"Failed: the backend's item of prospect {item.backend_id or '(no id)'} "
                f"(after seq {item.since}) could not be read after {item.attempts} attempts: "
                f"{item.error}",
            )
        if len(given_up) > UNREADABLE_LISTED:
            messages.warning(request, "More backend items could not be read than listed here.")
        return super().changelist_view(request, extra_context)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = [
        "backend_id",
        "type",
        "occurred_at",
        "prospect",
        "lead_synced",
        "contact_synced",
    ]
    list_filter = ["type"]
    list_select_related = ["prospect"]
    show_full_result_count = False
    # Django 5.x warns about the URL field's default scheme even on a read-only form.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
