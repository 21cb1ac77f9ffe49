"""Field Mappings and Logger Options."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from syncapp.admin.base import SWStudioMedia
from syncapp.engine.field_mappings import check_target
from syncapp.models import FieldMapping, LoggerOptions


class FieldMappingForm(forms.ModelForm):
    class Meta:
        model = FieldMapping
        fields = ["score", "object", "field"]

    def clean(self):
        cleaned = super().clean()
        obj, field = cleaned.get("object"), cleaned.get("field")
        if obj and field:
            try:
                check_target(obj, field)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(FieldMapping)
class FieldMappingAdmin(admin.ModelAdmin):
    Media = SWStudioMedia
    form = FieldMappingForm
    list_display = ["score", "object", "field"]
    list_filter = ["object"]
    list_select_related = ["score"]
    search_fields = ["field", "score__name", "score__backend_id"]
    fieldsets = [
        (
            None,
            {
                "description": "Each cycle writes the SalesWings score's value into this field "
                "of the object's records. The field must exist in the org (it is checked "
                "when you save) and be a Number field.",
                "fields": ["score", "object", "field"],
            },
        )
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("score")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form checks the field against the org's describe: a network call, which must
        # not run inside a database transaction (on SQLite the admin's atomic block would hold
        # the write lock, stalling the sync, for as long as Salesforce takes). The admin
        # wraps POSTs in one; this view saves one row and its log entry without it.
        return self._changeform_view(request, object_id, form_url, extra_context)


@admin.register(LoggerOptions)
class LoggerOptionsAdmin(admin.ModelAdmin):
    Media = SWStudioMedia
    list_display = ["logger", "level", "ship_to_backend"]
    list_filter = ["level", "ship_to_backend"]
    search_fields = ["logger"]
    fieldsets = [
        (
            None,
            {
                "description": "How much each part of the sync logs, and whether its "
                "warnings and errors also go to SalesWings (shipped by SWLogShipper). "
                "The most specific namespace wins.",
                "fields": ["logger", "level", "ship_to_backend"],
            },
        )
    ]
