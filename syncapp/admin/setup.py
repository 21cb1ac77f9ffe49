"""The Setup page: connect, turn the sync on and off, request a Full Synchronization, and
watch the cycles. SW Studio Administrators act; SW Studio Users see it read-only.

Every state change goes through `syncapp.engine.control`, `syncapp.engine.data_deletion` or a
named model method.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from syncapp import roles
from syncapp.admin import connection, dashboard
from syncapp.admin.base import as_seen_by
from syncapp.engine import control, data_deletion, org_check
from syncapp.models import FieldMapping, OrgCheck, StudioOptions


class ConnectForm(forms.Form):
    token = forms.CharField(
        label="SalesWings API token",
        max_length=500,
        # Never echoed back, not even when the form comes back with an error.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="Paste the API token from your SalesWings account settings. It is checked "
        "with SalesWings, stored encrypted and never shown again.",
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        if any(c.isspace() for c in token):
            raise forms.ValidationError("A token has no spaces or line breaks: paste it again.")
        if len(token) < 8:
            raise forms.ValidationError("This is too short to be a SalesWings API token.")
        return token


def _require_viewer(request):
    if not roles.is_viewer(request.user):
        raise PermissionDenied("The Setup page is for SW Studio Administrators and Users.")


def _require_administrator(request):
    if not roles.is_administrator(request.user):
        raise PermissionDenied("Only SW Studio Administrators can change the sync.")


def _setup_url():
    return reverse("admin:swstudio_setup")


def summary():
    """For the index card: is the sync on, and how did the last cycle end."""
    snapshot = dashboard.Snapshot.take()
    return {
        "enabled": snapshot.state.enabled,
        "last": snapshot.last_execution,
        "in_progress": snapshot.in_progress,
        "watcher": snapshot.schedules["watcher"],
    }


def history_rows(cycles):
    return [
        {
            "cycle": c,
            "totals": dashboard.step_totals(c),
            "api_calls": dashboard.format_api_calls(c.api_calls()),
            "aborted": dashboard.aborted_text(c),
            "duration": c.duration,
            "duration_display": dashboard.format_duration(c.duration),
        }
        for c in cycles
    ]


def _snapshot(request):
    """The Setup page's live data, as the caller may read it."""
    snapshot = dashboard.Snapshot.take()
    as_seen_by(request.user, cycles=snapshot.cycles)
    return snapshot


def _page_context(request, connect_form=None):
    snapshot = _snapshot(request)
    saleswings = connection.saleswings_status()
    salesforce = connection.salesforce_status()
    blockers = []
    if saleswings.blocks_sync:
        blockers.append("connect SalesWings")
    if salesforce.blocks_sync:
        blockers.append("fix the Salesforce connection")
    is_admin = roles.is_administrator(request.user)
    cycles = history_rows(snapshot.cycles)
    return {
        **admin.site.each_context(request),
        "title": "Setup",
        "can_act": is_admin,
        "snapshot": snapshot,
        "live": snapshot.as_json(),
        "state": snapshot.state,
        "running_user": dashboard.running_user_info(snapshot.state),
        "watcher": snapshot.schedules["watcher"],
        "runner": snapshot.schedules["runner"],
        "saleswings": saleswings,
        "salesforce": salesforce,
        "switch_blockers": blockers,
        "connect_form": connect_form or ConnectForm(),
        "full_sync": dashboard.full_sync_info(),
        "cycles": cycles,
        "chart": dashboard.chart(snapshot.cycles),
        "history_size": dashboard.HISTORY_SIZE,
        "datasets": datasets(),
        "org_check": org_check_info(),
        "watcher_minutes": settings.SWSTUDIO_WATCHER_INTERVAL_MINUTES,
        "liveness_minutes": settings.SWSTUDIO_LIVENESS_INTERVAL_MINUTES,
        # Without one, cycles write tags and temperatures but no score.
        "no_field_mapping": not FieldMapping.objects.exists(),
    }


def org_check_info():
    """The Org check panel: the last kept result and a check waiting for a worker, from the
    database only (the page never asks the org)."""
    last = org_check.last()
    pending = OrgCheck.objects.filter(status=OrgCheck.Status.QUEUED).order_by("-pk").first()
    return {
        "last": last,
        "findings": [
            {**f, "line": org_check.finding_line(f)} for f in (last.findings if last else [])
        ],
        "pending": pending,
        "pending_lost": pending is not None and org_check.is_lost(pending),
    }


def datasets():
    """The optional data sets the Data section can delete."""
    return [
        {"key": key, "description": description}
        for key, description in data_deletion.DATASETS.items()
    ]


@require_GET
def setup_page(request):
    _require_viewer(request)
    return TemplateResponse(request, "admin/setup/page.html", _page_context(request))


@require_GET
def progress_json(request):
    """The live part of the page, polled by setup.js."""
    _require_viewer(request)
    response = JsonResponse(_snapshot(request).as_json())
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def status_fragment(request):
    """The Status section alone, for setup.js to swap in when a cycle finishes."""
    _require_viewer(request)
    snapshot = _snapshot(request)
    cycles = history_rows(snapshot.cycles)
    return TemplateResponse(
        request,
        "admin/setup/_status.html",
        {
            "cycles": cycles,
            "chart": dashboard.chart(snapshot.cycles),
            "history_size": dashboard.HISTORY_SIZE,
        },
    )


@require_POST
def switch(request):
    """Turn the sync on or off. The form says which: a double-submitted "on" stays on."""
    _require_administrator(request)
    action = request.POST.get("action")
    if action == "on":
        blockers = []
        if connection.saleswings_status().blocks_sync:
            blockers.append("connect SalesWings")
        salesforce = connection.salesforce_status()
        if salesforce.blocks_sync:
            # The kept status says no (or nothing yet): the administrator waits for one
            # short check rather than for the next cycle that would never come.
            salesforce = connection.check_salesforce()
        if salesforce.blocks_sync:
            blockers.append("fix the Salesforce connection")
        if blockers:
            messages.error(request, f"The sync cannot be turned on yet: {' and '.join(blockers)}.")
        elif control.turn_on(request.user):
            watcher = dashboard.schedules()["watcher"]
            when = dashboard.format_datetime(watcher.next_fire_time) if watcher else "soon"
            messages.success(
                request,
                f"The sync is on. SalesWings Studio : Watcher starts the first cycle at {when}.",
            )
        else:
            messages.info(request, "The sync was already on; nothing changed.")
    elif action == "off":
        if control.turn_off(request.user, reason=f"The sync was turned off by {request.user}."):
            messages.success(
                request, "The sync is off. Every scheduled and queued job of the sync is gone."
            )
        else:
            messages.info(request, "The sync was already off; nothing changed.")
    else:
        messages.error(request, "Unknown switch position: nothing changed.")
    return HttpResponseRedirect(_setup_url())


@require_POST
def run_org_check(request):
    """Queue an org check for a worker; the page shows its result once kept."""
    _require_administrator(request)
    _row, queued = org_check.request(request.user)
    if queued:
        messages.success(
            request,
            "The org check is queued: a worker runs it (a few seconds); reload the page to see "
            "the result.",
        )
    else:
        messages.info(request, "An org check is already queued: reload the page in a moment.")
    return HttpResponseRedirect(_setup_url() + "#org-check")


@require_POST
def full_sync(request):
    _require_administrator(request)
    requested = request.POST.get("requested")
    if requested not in ("0", "1"):
        messages.error(request, "Unknown Full Synchronization request: nothing changed.")
    elif StudioOptions.set_full_sync_request(requested == "1"):
        if requested == "1":
            messages.success(request, "A Full Synchronization is queued for the next cycle.")
        else:
            messages.success(request, "The Full Synchronization request was withdrawn.")
    else:
        messages.info(request, "Nothing changed.")
    return HttpResponseRedirect(_setup_url() + "#full-sync")


@require_POST
def connect(request):
    """Check the pasted SalesWings token with the backend; store it encrypted when it works."""
    _require_administrator(request)
    form = ConnectForm(request.POST)
    if form.is_valid():
        connect_fn = connection.saleswings_connect_function()
        if connect_fn is None:
            form.add_error("token", connection.NOT_AVAILABLE.format("SalesWings"))
        else:
            auth_error, saleswings_error = connection.saleswings_errors()
            try:
                connect_fn(form.cleaned_data["token"], user=request.user)
            except auth_error as exc:
                form.add_error("token", f"SalesWings refused this token: {exc}")
            except saleswings_error as exc:
                form.add_error("token", f"SalesWings could not be reached: {exc}")
            else:
                account = connection.saleswings_status().details.get("account") or "SalesWings"
                messages.success(request, f"Connected to {account}.")
                if connection.salesforce_status().blocks_sync:
                    # The first connection: check the org too, so the switch can unlock.
                    connection.check_salesforce()
                return HttpResponseRedirect(_setup_url() + "#connection")
    return TemplateResponse(
        request, "admin/setup/page.html", _page_context(request, connect_form=form), status=400
    )


@require_POST
def check_salesforce(request):
    """Ask the org now (one attempt, a short timeout) and keep what it said."""
    _require_administrator(request)
    status = connection.check_salesforce()
    if status.connected:
        messages.success(
            request, f"Salesforce answered: connected as {status.details['username']}."
        )
    else:
        messages.error(request, f"Salesforce could not be reached: {status.error}")
    return HttpResponseRedirect(_setup_url() + "#connection")


def delete_data(request, dataset):
    """Data section: a confirmation page (GET), then the deletion and its count (POST)."""
    _require_administrator(request)
    known = data_deletion.DATASETS
    if dataset not in known:
        raise Http404("No such data set.")
    if request.method == "POST":
        # Network calls (deleting records in the org): outside any transaction, by design.
        try:
            deleted = data_deletion.delete_data(dataset)
        except data_deletion.DataDeletionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Deleted {deleted} records: {known[dataset]}.")
        return HttpResponseRedirect(_setup_url() + "#data")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return TemplateResponse(
        request,
        "admin/setup/delete_data.html",
        {
            **admin.site.each_context(request),
            "title": "Delete data",
            "dataset": dataset,
            "description": known[dataset],
        },
    )
