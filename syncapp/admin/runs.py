"""SW Apex Jobs: one run record per synchronization cycle, read-only."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from syncapp.admin.base import ReadOnlyAdmin, as_seen_by, badge
from syncapp.admin.dashboard import (
    aborted_text,
    format_api_calls,
    format_datetime,
    format_duration,
    step_totals,
)
from syncapp.models import SWApexJob
from syncapp.models.step_entries import ordered_entry


@admin.register(SWApexJob)
class SWApexJobAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "status_badge",
        "trigger",
        "start_display",
        "duration_display",
        "list_examined",
        "list_modified",
        "list_failed",
        "list_skipped",
    ]
    list_filter = ["status", "trigger", ("start_time", admin.DateFieldListFilter)]
    search_fields = ["name"]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "status_badge",
                    "trigger",
                    "full_sync",
                    "generation",
                    "aborted_display",
                    "note",
                ]
            },
        ),
        (
            "Timing",
            {"fields": ["created_display", "start_display", "end_display", "duration_display"]},
        ),
        (
            "Records",
            {
                "description": "Totals over the workflow steps (the Finalizer's and Enqueuer's "
                "bookkeeping is left out).",
                "fields": ["examined", "modified", "failed", "skipped", "api_calls", "jobs_link"],
            },
        ),
    ]
    # The steps table and the raw JSON come after the fieldsets, at full width.
    change_form_template = "admin/syncapp/swapexjob/change_form.html"
    readonly_fields = [
        "name",
        "status_badge",
        "trigger",
        "full_sync",
        "generation",
        "aborted_display",
        "note",
        "created_display",
        "start_display",
        "end_display",
        "duration_display",
        "examined",
        "modified",
        "failed",
        "skipped",
        "api_calls",
        "jobs_link",
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        shown = badge(obj.status, obj.get_status_display())
        if obj.was_aborted:
            # One of the five statuses all the same; said plainly that it was cut short.
            return format_html(
                '{} <span class="sw-badge sw-status-Aborted" title="{}">Aborted</span>',
                shown,
                aborted_text(obj),
            )
        return shown

    @admin.display(description="aborted")
    def aborted_display(self, obj):
        return aborted_text(obj) or "—"

    # Times with seconds and the time zone (the admin's default shows neither).
    @admin.display(description="created", ordering="created_at")
    def created_display(self, obj):
        return format_datetime(obj.created_at) or "—"

    @admin.display(description="start time", ordering="start_time")
    def start_display(self, obj):
        return format_datetime(obj.start_time) or "—"

    @admin.display(description="end time", ordering="end_time")
    def end_display(self, obj):
        return format_datetime(obj.end_time) or "—"

    @admin.display(description="duration")
    def duration_display(self, obj):
        return format_duration(obj.duration) or "—"

    # The list's columns, headed short: with the times' seconds and zone, the list keeps to
    # one line a row at 1,400 px (with the navigation sidebar folded away, below).
    @admin.display(description="examined")
    def list_examined(self, obj):
        return step_totals(obj)["examined"]

    @admin.display(description="modified")
    def list_modified(self, obj):
        return step_totals(obj)["modified"]

    @admin.display(description="failed")
    def list_failed(self, obj):
        return step_totals(obj)["failed"]

    @admin.display(description="skipped")
    def list_skipped(self, obj):
        return step_totals(obj)["skipped"]

    def changelist_view(self, request, extra_context=None):
        # Nine columns, the times with seconds and zone: the list needs the sidebar's width.
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        return super().changelist_view(request, extra_context)

    @admin.display(description="records examined")
    def examined(self, obj):
        return step_totals(obj)["examined"]

    @admin.display(description="records modified")
    def modified(self, obj):
        return step_totals(obj)["modified"]

    @admin.display(description="records failed")
    def failed(self, obj):
        return step_totals(obj)["failed"]

    @admin.display(description="records skipped")
    def skipped(self, obj):
        return step_totals(obj)["skipped"]

    @admin.display(description="API calls")
    def api_calls(self, obj):
        return format_api_calls(obj.api_calls())

    @admin.display(description="Apex Jobs")
    def jobs_link(self, obj):
        url = reverse("admin:syncapp_asyncjob_changelist") + f"?cycle__id__exact={obj.pk}"
        return format_html('<a href="{}">The async jobs of this cycle</a>', url)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        as_seen_by(request.user, cycles=[obj])
        return obj

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["steps"] = obj.steps
            context["raw_json"] = json.dumps(
                [ordered_entry(entry) for entry in obj.steps], indent=2, ensure_ascii=False
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
