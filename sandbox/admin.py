"""The sandbox admin page: fault switches and counters."""

from django.contrib import admin, messages

from . import runtime
from .models import Counter, SandboxSettings, SfSession, SwReceived


@admin.register(SandboxSettings)
class SandboxSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        (
            "Salesforce faults",
            {
                "fields": [
                    "validation_rules",
                    "lock_row_rate",
                    "server_error_rate",
                    "server_error_status",
                    "latency_ms",
                    "session_expiry_calls",
                    "daily_api_limit",
                ],
                "description": "Switched at run time; every serving process reads them on "
                "each request. The same switches, for staff: GET/PUT /sandbox/control/faults.",
            },
        ),
        (
            "The org's metadata and the integration user's access",
            {
                "fields": ["field_security", "missing_metadata"],
                "description": "Field-level security and custom fields or objects not deployed "
                "(a bare org): what describe shows and SOQL and writes accept.",
            },
        ),
        (
            "SalesWings backend",
            {
                "fields": [
                    "sw_error_rate",
                    "sw_rate_limit_rate",
                    "sw_latency_ms",
                    "sw_malformed_rate",
                    "auto_churn",
                    "churn_interval_seconds",
                    "churn_size",
                    "last_churn_at",
                ]
            },
        ),
        (
            "Credentials the stand-ins accept",
            {
                "fields": [
                    "saleswings_token",
                    "sf_username",
                    "sf_password",
                    "sf_client_id",
                    "sf_client_secret",
                    "sf_jwt_certificate",
                ]
            },
        ),
    ]
    readonly_fields = ["last_churn_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One row: go straight to it.
        from django.shortcuts import redirect

        return redirect("admin:sandbox_sandboxsettings_change", runtime.load_settings().pk)


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ["name", "value"]
    search_fields = ["name"]
    actions = ["reset_all"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Reset all counters")
    def reset_all(self, request, queryset):
        runtime.reset_counters()
        messages.success(request, "All sandbox counters reset.")


@admin.register(SfSession)
class SfSessionAdmin(admin.ModelAdmin):
    list_display = ["token", "username", "created_at", "calls"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SwReceived)
class SwReceivedAdmin(admin.ModelAdmin):
    list_display = ["kind", "received_at", "body"]
    list_filter = ["kind"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
