"""Apex Jobs: the sync's async jobs in Salesforce's AsyncApexJob vocabulary, read-only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from syncapp.admin.base import ReadOnlyAdmin, ViewFilter, as_seen_by, badge
from syncapp.models import AsyncJob


class AsyncJobViewFilter(ViewFilter):
    views = (
        ("sw_studio_all", "SW Studio All", "sw_studio_all"),
        ("sw_studio_steps", "SW Studio Steps", "steps"),
    )


@admin.register(AsyncJob)
class AsyncJobAdmin(ReadOnlyAdmin):
    list_display = [
        "job_type",
        "status_badge",
        "class_name",
        "total_batches",
        "batches_processed",
        "number_of_errors",
        "submitted_by",
        "created_date",
        "completed_date",
        "cycle_link",
    ]
    list_display_links = ["class_name"]
    list_filter = [
        AsyncJobViewFilter,
        "status",
        "job_type",
        ("created_date", admin.DateFieldListFilter),
    ]
    list_select_related = ["submitted_by", "cycle"]
    search_fields = ["class_name"]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["class_name", "job_type", "status_badge", "extended_status"]}),
        (
            "Batches",
            {"fields": ["total_batches", "batches_processed", "number_of_errors"]},
        ),
        (
            "Timing",
            {
                "fields": [
                    "submitted_by",
                    "created_date",
                    "started_date",
                    "completed_date",
                    "last_heartbeat",
                ]
            },
        ),
        ("Cycle", {"fields": ["cycle_link", "step", "generation", "task_id"]}),
    ]
    readonly_fields = [
        "class_name",
        "job_type",
        "status_badge",
        "extended_status",
        "total_batches",
        "batches_processed",
        "number_of_errors",
        "submitted_by",
        "created_date",
        "started_date",
        "completed_date",
        "last_heartbeat",
        "cycle_link",
        "step",
        "generation",
        "task_id",
    ]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        as_seen_by(request.user, jobs=[obj])
        return obj

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="SW Apex Job", ordering="cycle")
    def cycle_link(self, obj):
        if obj.cycle_id is None:
            return "—"
        url = reverse("admin:syncapp_swapexjob_change", args=[obj.cycle_id])
        return format_html('<a href="{}">{}</a>', url, obj.cycle)
