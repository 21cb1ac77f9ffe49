"""Scheduled Jobs: django-q2's schedules in Salesforce's CronTrigger vocabulary, read-only.

The sync's two schedules (Watcher, Runner) belong to the switch on the Setup page: nobody
edits or deletes them by hand. django-q2's own Schedule admin stays for superusers'
housekeeping of other schedules, without the sync's (and refusing names that look like them).
"""

import django_q.admin  # noqa: F401  (registers django-q2's admins first, so we can replace one)
from django import forms
from django.contrib import admin
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from syncapp.admin.base import ReadOnlyAdmin, ViewFilter, badge
from syncapp.models import ScheduledJob
from syncapp.models.schedules import LIVENESS_NAME, SW_STUDIO_SCHEDULE_PREFIX


class ScheduledJobViewFilter(ViewFilter):
    views = (("sw_studio", "SW Studio", "sw_studio"),)


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "state_badge",
        "next_fire_time",
        "previous_fire_time",
        "times_triggered",
    ]
    list_filter = [ScheduledJobViewFilter]
    list_select_related = ["stats"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "state_badge", "func", "kwargs"]}),
        (
            "Firing",
            {
                "fields": [
                    "schedule_type",
                    "minutes",
                    "repeats",
                    "next_fire_time",
                    "previous_fire_time",
                    "times_triggered",
                ]
            },
        ),
    ]
    readonly_fields = [
        "name",
        "state_badge",
        "func",
        "kwargs",
        "schedule_type",
        "minutes",
        "repeats",
        "next_fire_time",
        "previous_fire_time",
        "times_triggered",
    ]

    @admin.display(description="state")
    def state_badge(self, obj):
        return badge(obj.state)

    @admin.display(description="next fire time", ordering="next_run")
    def next_fire_time(self, obj):
        return obj.next_fire_time

    @admin.display(description="previous fire time", ordering="stats__previous_fire_time")
    def previous_fire_time(self, obj):
        return obj.previous_fire_time

    @admin.display(description="times triggered", ordering="stats__times_triggered")
    def times_triggered(self, obj):
        return obj.times_triggered


class OtherScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = [
            "name",
            "func",
            "hook",
            "args",
            "kwargs",
            "schedule_type",
            "minutes",
            "repeats",
            "next_run",
            "cron",
            "cluster",
            "intended_date_kwarg",
        ]

    def clean_name(self):
        name = self.cleaned_data.get("name") or ""
        if name.startswith(SW_STUDIO_SCHEDULE_PREFIX) or name == LIVENESS_NAME:
            raise forms.ValidationError(
                f"Names starting with “{SW_STUDIO_SCHEDULE_PREFIX}”, and “{LIVENESS_NAME}”, "
                "belong to the sync's own schedules, which only the switch on the Setup page "
                "creates."
            )
        return name


class OtherScheduleAdmin(ScheduleAdmin):
    """django-q2's Schedule admin minus the sync's own schedules."""

    form = OtherScheduleForm

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .exclude(name__startswith=SW_STUDIO_SCHEDULE_PREFIX)
            .exclude(name=LIVENESS_NAME)
        )


admin.site.unregister(Schedule)
admin.site.register(Schedule, OtherScheduleAdmin)
