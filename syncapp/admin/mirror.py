"""The local mirror of SalesWings data: machine-written by the workflow steps, read-only."""

from django.contrib import admin
from django.db import models

from syncapp.admin.base import ReadOnlyAdmin
from syncapp.models import Activity, Prospect, ScoreDefinition, TagDefinition


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
