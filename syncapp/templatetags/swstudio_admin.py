"""Template filters of SW Studio's admin."""

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def iso_time(value):
    """A step's ISO 8601 start/end (as kept in the run record's JSON) as local HH:MM:SS."""
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%H:%M:%S")


@register.filter
def iso_duration(step):
    """How long a step took, from its JSON start and end."""
    try:
        start = dt.datetime.fromisoformat(step["start"])
        end = dt.datetime.fromisoformat(step["end"])
    except (KeyError, TypeError, ValueError):
        return "—"
    from syncapp.admin.dashboard import format_duration

    return format_duration(end - start)
