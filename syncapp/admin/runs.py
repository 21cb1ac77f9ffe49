"""SW Apex Jobs: one run record per synchronization cycle, read-only."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from syncapp.admin.base import ReadOnlyAdmin, as_seen_by, badge
from syncapp.admin.dashboard import format_duration, step_totals
from syncapp.models import SWApexJob
from syncapp.models.step_entries import ordered_entry


@admin.register(SWApexJob)
class SWApexJobAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "status_badge",
        "trigger",
        "start_time",
        "end_time",
        "duration_display",
        "examined",
        "modified",
        "failed",
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
                    "note",
                ]
            },
        ),
        (
            "Timing",
            {"fields": ["created_at", "start_time", "end_time", "duration_display"]},
        ),
        (
            "Records",
            {
                "description": "Totals over the workflow steps (the Finalizer's and Enqueuer's "
                "bookkeeping is left out).",
                "fields": ["examined", "modified", "failed", "jobs_link"],
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
        "note",
        "created_at",
        "start_time",
        "end_time",
        "duration_display",
        "examined",
        "modified",
        "failed",
        "jobs_link",
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="duration")
    def duration_display(self, obj):
        return format_duration(obj.duration) or "—"

    @admin.display(description="records examined")
    def examined(self, obj):
        return step_totals(obj)["examined"]

    @admin.display(description="records modified")
    def modified(self, obj):
        return step_totals(obj)["modified"]

    @admin.display(description="records failed")
    def failed(self, obj):
        return step_totals(obj)["failed"]

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
