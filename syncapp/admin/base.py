"""Shared pieces of SW Studio's model admins."""

from django.contrib import admin
from django.utils.html import format_html

from syncapp import roles
from syncapp.redaction import redact, redact_steps


class SWStudioMedia:
    css = {"all": ["swstudio/swstudio.css"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Machine-written tables: viewable, never edited by hand."""

    Media = SWStudioMedia

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def badge(status, label=None):
    """A status as a coloured badge (colours in swstudio.css, one class per status)."""
    if not status:
        return "—"
    return format_html('<span class="sw-badge sw-status-{}">{}</span>', status, label or status)


class ViewFilter(admin.SimpleListFilter):
    """Salesforce's list "views", each backed by a queryset method of the model's manager
    (house style: querysets carry the filters; the admin and the API use the same methods)."""

    title = "View"
    parameter_name = "view"
    # (value, label, queryset method name)
    views = ()

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _ in self.views]

    def queryset(self, request, queryset):
        for value, _, method in self.views:
            if self.value() == value:
                return getattr(queryset, method)()
        return queryset


def as_seen_by(user, *, cycles=(), jobs=()):
    """Run records as `user` may read them: for anyone but an Administrator, their notes,
    step entries and job messages without hosts, ports or URLs (`syncapp.redaction`).
    Changes the instances in memory only: they are shown, never saved."""
    if roles.is_administrator(user):
        return
    for cycle in cycles:
        if cycle is not None:
            cycle.note = redact(cycle.note)
            cycle.steps = redact_steps(cycle.steps)
    for job in jobs:
        if job is not None:
            job.extended_status = redact(job.extended_status)
