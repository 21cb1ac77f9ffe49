"""API tokens in the admin without their keys.

DRF's own TokenAdmin lists every user's key in clear, so anyone allowed to view tokens could
act as any other user on the API. Here a token shows its first four characters (enough to
tell two apart) and is created with `manage.py issuetoken` or from this form, where the new
key is never echoed (the user runs `issuetoken` to read their own).
"""

from django.contrib import admin
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy


def _token_label(token):
    return f"{token.key[:4]}… ({token.user})"


# The admin writes str(obj) into page titles, breadcrumbs, messages and the history
# (LogEntry.object_repr); DRF's Token says its key there. The proxy the admin uses says the hint.
TokenProxy.__str__ = _token_label


class HiddenKeyTokenAdmin(TokenAdmin):
    list_display = ("key_hint", "user", "created")
    fields = ("user",)
    search_fields = ("user__username",)
    ordering = ("-created",)

    @admin.display(description="Key")
    def key_hint(self, obj):
        return f"{obj.key[:4]}…"


if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, HiddenKeyTokenAdmin)
