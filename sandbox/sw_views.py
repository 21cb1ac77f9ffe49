"""The SalesWings backend stand-in: API v1 exactly as docs/saleswings-api.md describes."""

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import random
import time
from collections import namedtuple

from django.db import connection
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import churn, runtime
from .errors import SwApiError
from .fastjson import json_response, loads
from .models import SandboxSettings, SwActivity, SwProspect, SwReceived, SwScore, SwTag

log = logging.getLogger(__name__)

MAX_ENTRIES = 500


def iso(value):
    if value is None or isinstance(value, str):  # None, or already as the API spells it
        return value
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


PROSPECT_FIELDS = (
    "id", "seq", "email", "first_name", "last_name", "lifecycle", "merged_into", "temperature",
    "last_visit", "favorite", "assignee", "tags", "scores", "updated_at",
)  # fmt: skip


ProspectRow = namedtuple("ProspectRow", PROSPECT_FIELDS)


def _sqlite_iso(text):
    """SQLite's text of an aware date-time (naive UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]`) as
    `iso` spells it."""
    if text is None:
        return None
    return f"{text[:10]}T{text[11:19]}+00:00"


def prospect_rows(since, count):
    """Up to `count` prospects after `since`, by `seq`, as named tuples (not model instances:
    a page is up to 1,000 prospects, and building an instance each was a quarter of the page's
    time). On SQLite the values are read as stored and converted here (the date-times straight
    to the API's text) rather than through Django's converters, the larger part of the rest."""
    if connection.vendor != "sqlite":
        return list(
            SwProspect.objects.filter(seq__gt=since)
            .order_by("seq")
            .values_list(*PROSPECT_FIELDS, named=True)[:count]
        )
    meta, qn = SwProspect._meta, connection.ops.quote_name
    columns = []
    for name in PROSPECT_FIELDS:
        field = meta.get_field(name)
        column = qn(field.column)
        # As text: the driver would otherwise parse a datetime column (Python, per value).
        is_datetime = field.get_internal_type() == "DateTimeField"
        columns.append(f"CAST({column} AS TEXT)" if is_datetime else column)
    order = qn(meta.get_field("seq").column)
    sql = "SELECT {} FROM {} WHERE {} > %s ORDER BY {} LIMIT %s".format(
        ", ".join(columns), qn(meta.db_table), order, order
    )
    params = [since, count]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            ProspectRow(
                pid, seq, email, first, last, lifecycle, merged, temperature,
                _sqlite_iso(visit), bool(favorite), assignee, loads(tags), loads(scores),
                _sqlite_iso(updated),
            )  # fmt: skip
            for (
                pid, seq, email, first, last, lifecycle, merged, temperature, visit, favorite,
                assignee, tags, scores, updated,
            ) in cursor.fetchall()
        ]  # fmt: skip


def prospect_json(p):
    return {
        "id": p.id,
        "seq": p.seq,
        "email": p.email,
        "firstName": p.first_name,
        "lastName": p.last_name,
        "lifecycle": p.lifecycle,
        "mergedInto": p.merged_into,
        "temperature": p.temperature,
        "lastVisit": iso(p.last_visit),
        "favorite": p.favorite,
        "assignee": p.assignee,
        "tags": list(p.tags or []),
        "scores": dict(p.scores or {}),
        "updatedAt": iso(p.updated_at),
    }


# How an item is served malformed. The first three make the item unusable (the sync skips
# it); `nan_score` is a usable item whose scores are NaN, which Python's JSON parser reads as
# a float (the sync stores the item without them).
MALFORMED_KINDS = ("not_object", "no_id", "bad_seq", "nan_score")
UNUSABLE_KINDS = MALFORMED_KINDS[:3]


def malformed_kind(p, rate):
    """None, or how this prospect's item is served malformed (stable for an id and seq)."""
    if not rate:
        return None
    digest = hashlib.sha256(f"{p.id}:{p.seq}".encode()).digest()
    if int.from_bytes(digest[:4], "big") / 2**32 >= rate:
        return None
    return MALFORMED_KINDS[digest[4] % len(MALFORMED_KINDS)]


def malformed_json(p, kind):
    if kind == "not_object":
        return f"<corrupt prospect {p.seq}>"
    item = prospect_json(p)
    if kind == "no_id":
        del item["id"]
    elif kind == "nan_score":
        item["scores"] = dict.fromkeys(item["scores"] or ["engagement"], float("nan"))
    else:
        item["seq"] = str(p.seq)
    return item


def activity_json(a):
    return {
        "id": a.id,
        "seq": a.seq,
        "prospectId": a.prospect_id,
        "type": a.type,
        "occurredAt": iso(a.occurred_at),
        "url": a.url,
        "title": a.title,
        "details": a.details or {},
    }


def _error(status, code, message, headers=None):
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def sw_api(methods):
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, **kwargs):
            counts = runtime.Counts()
            counts["sw.requests"] += 1
            try:
                cfg = runtime.load_settings()
                auth = request.headers.get("Authorization", "")
                token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
                if not token or not hmac.compare_digest(
                    token.encode(), cfg.saleswings_token.encode()
                ):
                    counts["sw.rejected.invalid_token"] += 1
                    raise SwApiError(
                        401,
                        "invalid_token",
                        "Missing or invalid API token (send Authorization: Bearer <token>).",
                    )
                if request.method not in methods:
                    raise SwApiError(
                        405,
                        "method_not_allowed",
                        f"{request.method} is not allowed here; use {', '.join(methods)}.",
                    )
                counts[f"sw.op.{view.__name__}"] += 1
                if cfg.sw_latency_ms:
                    counts["sw.fault.latency"] += 1
                    time.sleep(cfg.sw_latency_ms / 1000)
                if cfg.sw_rate_limit_rate and random.random() < cfg.sw_rate_limit_rate:
                    counts["sw.fault.rate_limited"] += 1
                    raise SwApiError(
                        429, "rate_limited", "Too many requests.", headers={"Retry-After": "1"}
                    )
                if cfg.sw_error_rate and random.random() < cfg.sw_error_rate:
                    counts["sw.fault.unavailable"] += 1
                    raise SwApiError(503, "unavailable", "Temporarily unavailable (injected).")
                return view(request, cfg, counts, **kwargs)
            except SwApiError as exc:
                return _error(exc.status, exc.code, exc.message, exc.headers)
            except Exception:
                log.exception("sandbox SalesWings stand-in failed")
                counts["sw.internal_errors"] += 1
                return _error(500, "server_error", "An unexpected error occurred.")
            finally:
                counts.flush()

        return wrapper

    return decorate


def _int_param(request, name, default, low, high):
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SwApiError(400, "bad_request", f"'{name}' must be an integer, got {raw!r}.") from None
    if not low <= value <= high:
        raise SwApiError(400, "bad_request", f"'{name}' must be between {low} and {high}.")
    return value


def _page(request):
    since = _int_param(request, "since", 0, 0, 2**62)
    limit = _int_param(request, "limit", 500, 1, 1000)
    return since, limit


def _body(request):
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SwApiError(400, "bad_request", f"The body is not valid JSON: {exc}") from None


@sw_api(["GET"])
def account(request, cfg, counts):
    return JsonResponse({"account": {"id": "acc_1", "name": "Acme Corp"}})


@sw_api(["GET"])
def tags(request, cfg, counts):
    return JsonResponse(
        {
            "tags": [
                {"id": t.id, "name": t.name, "description": t.description}
                for t in SwTag.objects.order_by("id")
            ]
        }
    )


@sw_api(["GET"])
def scores(request, cfg, counts):
    return JsonResponse(
        {
            "scores": [
                {"id": s.id, "name": s.name, "description": s.description}
                for s in SwScore.objects.order_by("id")
            ]
        }
    )


def _maybe_churn(cfg, counts):
    """Advance the world at most once per churn interval, claimed by one atomic UPDATE so
    concurrent readers in several processes churn once."""
    if not cfg.auto_churn:
        return
    now = timezone.now()
    claimed = (
        SandboxSettings.objects.filter(pk=cfg.pk, auto_churn=True)
        .filter(
            Q(last_churn_at__isnull=True)
            | Q(last_churn_at__lte=now - dt.timedelta(seconds=cfg.churn_interval_seconds))
        )
        .update(last_churn_at=now)
    )
    if claimed:
        churn.churn(cfg.churn_size)
        counts["sw.auto_churns"] += 1


@sw_api(["GET"])
def prospects(request, cfg, counts):
    since, limit = _page(request)
    if since > 0:
        _maybe_churn(cfg, counts)
    rows = prospect_rows(since, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items, malformed = [], False
    for p in rows:
        kind = malformed_kind(p, cfg.sw_malformed_rate)
        if kind:
            counts["sw.fault.malformed"] += 1
            items.append(malformed_json(p, kind))
            malformed = True
        else:
            items.append(prospect_json(p))
    page = {"prospects": items, "nextSince": rows[-1].seq if rows else since, "hasMore": more}
    # A malformed item may carry NaN, which only the standard library writes as NaN.
    return JsonResponse(page) if malformed else json_response(page)


@sw_api(["GET"])
def activities(request, cfg, counts):
    since, limit = _page(request)
    rows = list(SwActivity.objects.filter(seq__gt=since).order_by("seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse(
        {
            "activities": [activity_json(a) for a in rows],
            "nextSince": rows[-1].seq if rows else since,
            "hasMore": more,
        }
    )


@sw_api(["POST"])
def metrics(request, cfg, counts):
    body = _body(request)
    if not isinstance(body, dict):
        raise SwApiError(400, "bad_request", "The metrics must be a JSON object.")
    SwReceived.objects.create(kind="metrics", received_at=timezone.now(), body=body)
    return JsonResponse({"accepted": True}, status=202)


def _list_of_objects(body, key):
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SwApiError(400, "bad_request", f'The body must be {{"{key}": [object, ...]}}.')
    if len(items) > MAX_ENTRIES:
        raise SwApiError(
            413, "too_large", f"At most {MAX_ENTRIES} {key} per call, got {len(items)}."
        )
    return items


@sw_api(["POST"])
def logs(request, cfg, counts):
    entries = _list_of_objects(_body(request), "entries")
    now = timezone.now()
    SwReceived.objects.bulk_create(
        [SwReceived(kind="log", received_at=now, body=e) for e in entries]
    )
    return JsonResponse({"accepted": len(entries)}, status=202)


@sw_api(["POST"])
def salesforce_changes(request, cfg, counts):
    records = _list_of_objects(_body(request), "records")
    for r in records:
        if not isinstance(r.get("salesforceId"), str) or r.get("object") not in ("Lead", "Contact"):
            raise SwApiError(
                400,
                "bad_request",
                'Every change needs "salesforceId" (string) and "object" ("Lead" or "Contact").',
            )
    now = timezone.now()
    SwReceived.objects.bulk_create(
        [SwReceived(kind="change", received_at=now, body=r) for r in records]
    )
    return JsonResponse({"accepted": len(records)})


@csrf_exempt
def not_found(request, rest=""):
    return _error(404, "not_found", f"No such endpoint: {request.path}")
