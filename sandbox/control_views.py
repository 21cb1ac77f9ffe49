"""HTTP control of the sandbox, for tests and demos: faults, counters, churn.

Staff only, even in the demo: a logged-in admin session (its CSRF token required on every
change, so another site cannot post on the user's behalf) or a token
(`Authorization: Token <key>`, from `manage.py sandbox control-token`), of an active staff user
allowed to view (GET) or change (anything else) the sandbox's settings.
"""

import functools
import json
import math
import socket

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from . import churn, runtime
from .models import SfSession

CONTROL_USER = "sandbox-control"
VIEW_PERMISSION = "sandbox.view_sandboxsettings"
CHANGE_PERMISSION = "sandbox.change_sandboxsettings"

FAULT_FIELDS = [
    "validation_rules",
    "lock_row_rate",
    "server_error_rate",
    "server_error_status",
    "latency_ms",
    "session_expiry_calls",
    "daily_api_limit",
    "sw_error_rate",
    "sw_rate_limit_rate",
    "sw_latency_ms",
    "sw_malformed_rate",
    "auto_churn",
    "churn_interval_seconds",
    "churn_size",
    # The org's shape (docs/sandbox.md): field-level security for the integration user, and
    # the package metadata an org lacks (a bare org).
    "field_security",
    "missing_metadata",
]
# Settings whose value is JSON (checked by the model's validators), not a number or a flag.
JSON_FIELDS = {"validation_rules", "field_security", "missing_metadata"}
DEFAULTS = {
    "validation_rules": [],
    "lock_row_rate": 0.0,
    "server_error_rate": 0.0,
    "server_error_status": 503,
    "latency_ms": 0,
    "session_expiry_calls": None,
    "daily_api_limit": 100000,
    "sw_error_rate": 0.0,
    "sw_rate_limit_rate": 0.0,
    "sw_latency_ms": 0,
    "sw_malformed_rate": 0.0,
    "auto_churn": True,
    "churn_interval_seconds": 60,
    "churn_size": 25,
    "field_security": {},
    "missing_metadata": [],
}


# Upper bounds of the numeric settings, beyond what their columns hold: a latency of 10^12 ms
# would hang every call, a churn of 10^9 prospects the stand-in.
MAXIMA = {
    "latency_ms": 60_000,
    "sw_latency_ms": 60_000,
    "session_expiry_calls": 10**9,
    "daily_api_limit": 10**9,
    "churn_interval_seconds": 86_400,
    "churn_size": 100_000,
}


def _error(status, code, message, **extra):
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def staff_only(view):
    """The caller must be an active staff user with the sandbox settings' view permission
    (GET) or change permission (other methods); a session must carry its CSRF token."""

    @csrf_exempt  # a session's CSRF token is checked below; a token header needs none
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        drf_request = Request(
            request, authenticators=[TokenAuthentication(), SessionAuthentication()]
        )
        try:
            user = drf_request.user
        except exceptions.APIException as exc:  # a bad token, a session without CSRF
            return _error(exc.status_code, "forbidden", str(exc.detail))
        if not (user and user.is_authenticated):
            response = _error(
                401,
                "not_authenticated",
                "Log in as staff (the admin) or send Authorization: Token <key> "
                "(manage.py sandbox control-token).",
            )
            response["WWW-Authenticate"] = "Token"
            return response
        needed = VIEW_PERMISSION if request.method in ("GET", "HEAD") else CHANGE_PERMISSION
        if not (user.is_active and user.is_staff and user.has_perm(needed)):
            return _error(403, "forbidden", f"Staff with the {needed} permission only.")
        return view(request, *args, **kwargs)

    return wrapped


def control_token():
    """The key of the sandbox's own control user: staff, allowed to view and change the
    sandbox's settings and nothing else (created on first use)."""
    user, created = get_user_model().objects.get_or_create(
        username=CONTROL_USER, defaults={"is_staff": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="sandbox",
                codename__in=["view_sandboxsettings", "change_sandboxsettings"],
            )
        )
    return Token.objects.get_or_create(user=user)[0].key


def faults_json(cfg):
    return {name: getattr(cfg, name) for name in FAULT_FIELDS}


def apply_faults(cfg, changes):
    """Set fault fields from a dict; raises ValidationError (nothing saved) on bad input."""
    unknown = sorted(set(changes) - set(FAULT_FIELDS))
    if unknown:
        raise ValidationError({k: ["Unknown setting."] for k in unknown})
    for name, value in changes.items():
        field = cfg._meta.get_field(name)
        if name not in JSON_FIELDS:
            if value is None and not field.null:
                raise ValidationError({name: ["May not be null."]})
            if value is not None:
                expected = (bool,) if name == "auto_churn" else (int, float)
                if not isinstance(value, expected) or (
                    name != "auto_churn" and isinstance(value, bool)
                ):
                    raise ValidationError({name: ["Wrong type."]})
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValidationError({name: ["Must be a finite number."]})
                if name in MAXIMA and value > MAXIMA[name]:
                    raise ValidationError({name: [f"At most {MAXIMA[name]}."]})
                if field.get_internal_type() == "PositiveIntegerField" or (
                    field.get_internal_type() == "PositiveSmallIntegerField"
                ):
                    if value != int(value):
                        raise ValidationError({name: ["Must be an integer."]})
                    value = int(value)
        setattr(cfg, name, value)
    cfg.full_clean()
    cfg.save()


@staff_only
def faults(request):
    cfg = runtime.load_settings()
    if request.method == "GET":
        return JsonResponse(faults_json(cfg))
    if request.method not in ("PUT", "PATCH", "DELETE"):
        return _error(405, "method_not_allowed", "Use GET, PUT/PATCH (change) or DELETE (reset).")
    if request.method == "DELETE":
        changes = dict(DEFAULTS)
    else:
        try:
            changes = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, "bad_request", f"The body is not valid JSON: {exc}")
        except RecursionError:
            return _error(400, "bad_request", "The body is not valid JSON: nested too deeply.")
        if not isinstance(changes, dict):
            return _error(400, "bad_request", "The body must be a JSON object of settings.")
    try:
        apply_faults(cfg, changes)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _error(400, "bad_request", "Invalid fault settings.", details=details)
    return JsonResponse(faults_json(cfg))


def stats_json():
    cfg = runtime.load_settings()
    counters = runtime.all_counters()
    used = counters.get("sf.api_calls", 0)
    return {
        "salesforce": {
            "apiUsed": used,
            "apiMax": cfg.daily_api_limit,
            "apiRemaining": max(0, cfg.daily_api_limit - used),
            "sessions": SfSession.objects.count(),
        },
        "counters": counters,
    }


def _tcp_nodelay(request):
    """Whether the connection serving this request has Nagle's algorithm off (gunicorn
    exposes the socket; other servers do not: None)."""
    sock = request.META.get("gunicorn.socket")
    if sock is None:
        return None
    try:
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    except OSError:
        return None


@staff_only
def stats(request):
    if request.method != "GET":
        return _error(405, "method_not_allowed", "Use GET.")
    return JsonResponse({**stats_json(), "server": {"tcpNoDelay": _tcp_nodelay(request)}})


@staff_only
def reset_counters(request):
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.")
    runtime.reset_counters()
    return JsonResponse({"reset": True, **stats_json()})


@staff_only
def churn_now(request):
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.")
    raw = request.GET.get("size", "25")
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        return _error(400, "bad_request", "size must be an integer from 1 to 100000.")
    # A seed repeats a churn exactly (the same prospects, the same changes).
    seed = request.GET.get("seed")
    if seed is not None and not (seed.isascii() and seed.isdigit() and len(seed) <= 18):
        return _error(
            400, "bad_request", "seed must be a non-negative integer (18 digits at most)."
        )
    return JsonResponse(
        {"churned": churn.churn(int(raw), seed=None if seed is None else int(seed))}
    )
