"""The Salesforce stand-in: OAuth token endpoint and the REST API subset SW Studio uses."""

import base64
import functools
import hashlib
import hmac
import json
import logging
import random
import secrets
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import runtime, sfstore
from .errors import SfApiError
from .fastjson import json_response
from .ids import make_id
from .models import SfSession
from .schema import SOBJECTS, describe, describe_global_entry, get_sobject

log = logging.getLogger(__name__)

ORG_ID = make_id("00D", 1)
LATEST_VERSION = "59.0"


def _json(data, status=200):
    return json_response(data, status=status)


def _error(exc):
    return _json(exc.body(), status=exc.status)


def _body(request):
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SfApiError(
            400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
        ) from None


# --- OAuth ---------------------------------------------------------------------------------


def _oauth_error(code, description, status=400):
    return JsonResponse({"error": code, "error_description": description}, status=status)


@csrf_exempt
def oauth_token(request):
    if request.method != "POST":
        return _oauth_error("invalid_request", "must use HTTP POST", status=405)
    cfg = runtime.load_settings()
    p = request.POST
    grant = p.get("grant_type")
    if grant not in ("password", "client_credentials"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, client_secret = p.get("client_id"), p.get("client_secret")
    auth = request.headers.get("Authorization", "")
    if auth[:6].lower() == "basic ":
        # Client credentials may come as HTTP Basic (simple-salesforce sends them so).
        try:
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return _oauth_error("invalid_client", "invalid client credentials")
    if client_id != cfg.sf_client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if client_secret != cfg.sf_client_secret:
        return _oauth_error("invalid_client", "invalid client credentials")
    if grant == "password" and (
        p.get("username") != cfg.sf_username or p.get("password") != cfg.sf_password
    ):
        return _oauth_error("invalid_grant", "authentication failure")
    token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(40)}"
    SfSession.objects.create(token=token, username=cfg.sf_username, created_at=timezone.now())
    runtime.bump({"sf.logins": 1})
    issued_at = str(int(time.time() * 1000))
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    user_id = make_id("005", 1)
    signature = base64.b64encode(
        hmac.new(
            cfg.sf_client_secret.encode(), (base + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode()
    return JsonResponse(
        {
            "access_token": token,
            "instance_url": base,
            "id": f"{base}/id/{ORG_ID}/{user_id}",
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
        }
    )


def identity(request, org_id, user_id):
    """The identity URL a token answer names (`id`): who the token belongs to. As Salesforce's
    identity service, it is not an API call (not counted against the daily limit), and a
    token it does not know is 403 `Bad_OAuth_Token`."""
    if request.method != "GET":
        return JsonResponse({"error": "method_not_allowed"}, status=405)
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    session = SfSession.objects.filter(token=token).first() if token else None
    if session is None:
        return HttpResponse("Bad_OAuth_Token", status=403, content_type="text/plain")
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    if org_id != ORG_ID or user_id != make_id("005", 1):
        return HttpResponse("Bad_Id", status=404, content_type="text/plain")
    return JsonResponse(
        {
            "id": f"{base}/id/{ORG_ID}/{user_id}",
            "asserted_user": True,
            "user_id": user_id,
            "organization_id": ORG_ID,
            "username": session.username,
            "nick_name": session.username.partition("@")[0],
            "display_name": "SW Studio Integration",
            "active": True,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
        }
    )


# --- the API wrapper: auth, limits, faults, counting ---------------------------------------


class Ctx:
    def __init__(self, cfg, version, counts, used):
        self.cfg = cfg
        self.version = version
        self.counts = counts
        self.used = used  # API calls used, this one included


def _session_calls(token):
    """Count a call on this session; its call count, or None when the token is unknown."""
    table = connection.ops.quote_name(SfSession._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET calls = calls + 1 WHERE token = %s RETURNING calls", [token]
        )
        row = cur.fetchone()
    return row[0] if row else None


def api(methods):
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, version=LATEST_VERSION, **kwargs):
            started, cpu_started = time.perf_counter(), time.thread_time()
            counts = runtime.Counts()
            counts["sf.requests"] += 1
            cfg = runtime.load_settings()
            used = runtime.counter("sf.api_calls")
            try:
                response = _guarded(request, view, methods, cfg, version, counts, used, kwargs)
                used += counts.get("sf.api_calls", 0)
            finally:
                counts.flush()
            response["Sforce-Limit-Info"] = f"api-usage={used}/{cfg.daily_api_limit}"
            # Server time of the whole call (added latency included) and the CPU time of the
            # thread that served it (steadier than wall time on a busy machine), for benchmarks.
            response["Server-Timing"] = (
                f"app;dur={(time.perf_counter() - started) * 1000:.2f}, "
                f"cpu;dur={(time.thread_time() - cpu_started) * 1000:.2f}"
            )
            return response

        return wrapper

    return decorate


def _guarded(request, view, methods, cfg, version, counts, used, kwargs):
    try:
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        calls = _session_calls(token) if token else None
        if calls is None:
            counts["sf.rejected.INVALID_SESSION_ID"] += 1
            raise SfApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if cfg.session_expiry_calls is not None and calls > cfg.session_expiry_calls:
            counts["sf.fault.INVALID_SESSION_ID"] += 1
            raise SfApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if used >= cfg.daily_api_limit:
            counts["sf.fault.REQUEST_LIMIT_EXCEEDED"] += 1
            raise SfApiError(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                f"TotalRequests Limit exceeded. ({used}/{cfg.daily_api_limit})",
            )
        counts["sf.api_calls"] += 1
        counts[f"sf.op.{view.__name__}"] += 1
        if cfg.latency_ms:
            counts["sf.fault.LATENCY"] += 1
            time.sleep(cfg.latency_ms / 1000)
        if cfg.server_error_rate and random.random() < cfg.server_error_rate:
            counts[f"sf.fault.HTTP_{cfg.server_error_status}"] += 1
            raise SfApiError(
                cfg.server_error_status,
                "SERVER_UNAVAILABLE" if cfg.server_error_status == 503 else "UNKNOWN_EXCEPTION",
                "An unexpected error occurred (injected by the sandbox). Please try again.",
            )
        if request.method not in methods:
            raise SfApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(methods)}",
            )
        return view(request, Ctx(cfg, version, counts, used + 1), **kwargs)
    except SfApiError as exc:
        return _error(exc)
    except Exception:  # a sandbox bug must still look like Salesforce, and be logged
        log.exception("sandbox Salesforce stand-in failed")
        counts["sf.internal_errors"] += 1
        return _error(SfApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))


def _sobject(name):
    sobj = get_sobject(name)
    if sobj is None:
        raise SfApiError(
            404, "NOT_FOUND", f"The requested resource does not exist (sObject type '{name}')"
        )
    return sobj


# --- resources -----------------------------------------------------------------------------


def versions(request):
    return _json(
        [
            {"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
            for v in ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
        ]
    )


@api(["GET"])
def resources(request, ctx):
    base = f"/services/data/v{ctx.version}"
    return _json(
        {
            name: f"{base}/{name}"
            for name in ("sobjects", "query", "queryAll", "composite", "limits")
        }
    )


@api(["GET"])
def limits(request, ctx):
    used = ctx.used
    mx = ctx.cfg.daily_api_limit
    return _json(
        {
            "DailyApiRequests": {"Max": mx, "Remaining": max(0, mx - used)},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
        }
    )


def _page_size(request):
    opts = request.headers.get("Sforce-Query-Options", "")
    for part in opts.split(","):
        key, _, value = part.strip().partition("=")
        if key == "batchSize" and value.isdigit():
            return max(200, min(2000, int(value)))
    return sfstore.PAGE_SIZE


@api(["GET"])
def query(request, ctx):
    return _json(sfstore.run_query(request.GET.get("q"), False, ctx.version, _page_size(request)))


@api(["GET"])
def query_all(request, ctx):
    return _json(sfstore.run_query(request.GET.get("q"), True, ctx.version, _page_size(request)))


@api(["GET"])
def query_more(request, ctx, locator):
    return _json(sfstore.query_more(locator, ctx.version))


@api(["GET"])
def describe_global(request, ctx):
    return _json(
        {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [describe_global_entry(s, ctx.version) for s in SOBJECTS.values()],
        }
    )


@api(["GET", "POST"])
def sobject_root(request, ctx, name):
    sobj = _sobject(name)
    if request.method == "GET":
        return _json(
            {"objectDescribe": describe_global_entry(sobj, ctx.version), "recentItems": []}
        )
    body = _body(request)
    if not isinstance(body, dict):
        raise SfApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    plans = sfstore.plan_records(sobj, [body], "create", ctx.cfg, ctx.counts)
    sfstore.apply_plans(plans, ctx.counts)
    p = plans[0]
    if p.errors:
        return _single_error(p)
    return _json({"id": sobj.make_id(p.pk), "success": True, "errors": []}, status=201)


def _single_error(plan):
    return _json(
        [
            {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
            for e in plan.errors
        ],
        status=400,
    )


@api(["GET"])
def sobject_describe(request, ctx, name):
    return _json(describe(_sobject(name), ctx.version))


@api(["GET", "PATCH", "DELETE"])
def sobject_record(request, ctx, name, rid):
    sobj = _sobject(name)
    pk = sobj.parse_id(rid)
    if pk is None:
        raise SfApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if request.method == "GET":
        fields = None
        if request.GET.get("fields"):
            fields = []
            for fname in request.GET["fields"].split(","):
                f = sobj.field(fname.strip())
                if f is None:
                    raise SfApiError(
                        400, "INVALID_FIELD", f"No such column '{fname}' on entity '{sobj.name}'"
                    )
                fields.append(f)
        rec = sfstore.fetch_record(sobj, pk, ctx.version, fields)
        if rec is None:
            raise SfApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return _json(rec)
    if request.method == "DELETE":
        row = sobj.model.objects.filter(pk=pk).values_list("is_deleted", flat=True).first()
        if row is None:
            raise SfApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if row:
            raise SfApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        sfstore.delete_records(sobj, [pk])
        return HttpResponse(status=204)
    body = _body(request)
    if not isinstance(body, dict):
        raise SfApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    body = {**body, "Id": rid}
    plans = sfstore.plan_records(sobj, [body], "update", ctx.cfg, ctx.counts)
    p = plans[0]
    if any(e["statusCode"] in ("INVALID_CROSS_REFERENCE_KEY",) for e in p.errors):
        raise SfApiError(404, "NOT_FOUND", "The requested resource does not exist")
    sfstore.apply_plans(plans, ctx.counts)
    if p.errors:
        return _single_error(p)
    return HttpResponse(status=204)


def _collection_body(request):
    body = _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SfApiError(
            400,
            "JSON_PARSER_ERROR",
            'The request body must be a JSON object {"allOrNone": bool, "records": [...]}',
        )
    records = body["records"]
    if len(records) > sfstore.MAX_COLLECTION:
        raise SfApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SfApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    return records, all_or_none


def _record_type(rec):
    attrs = rec.get("attributes") if isinstance(rec, dict) else None
    name = attrs.get("type") if isinstance(attrs, dict) else None
    if not name:
        raise SfApiError(
            400,
            "INVALID_TYPE",
            "The sObject type of every record must be given in attributes.type",
        )
    sobj = get_sobject(name)
    if sobj is None:
        raise SfApiError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
    return sobj


def _chunks(records):
    """Consecutive records of one type, as Salesforce processes them."""
    chunks = []
    for rec in records:
        sobj = _record_type(rec)
        if chunks and chunks[-1][0] is sobj:
            chunks[-1][1].append(rec)
        else:
            chunks.append((sobj, [rec]))
    if len(chunks) > 10:
        raise SfApiError(400, "INVALID_BATCH_REQUEST", "A request can process up to 10 chunks")
    return chunks


@api(["POST", "PATCH", "DELETE"])
def collections(request, ctx):
    if request.method == "DELETE":
        return _collection_delete(request, ctx)
    records, all_or_none = _collection_body(request)
    mode = "create" if request.method == "POST" else "update"
    plans = []
    for sobj, chunk in _chunks(records):
        plans += sfstore.plan_records(sobj, chunk, mode, ctx.cfg, ctx.counts)
    if all_or_none and any(p.errors for p in plans):
        sfstore.rollback_all(plans)
    sfstore.apply_plans(plans, ctx.counts)
    ctx.counts["sf.records_failed"] += sum(1 for p in plans if p.errors)
    return _json([p.result() for p in plans])


def _collection_delete(request, ctx):
    ids = [i for i in request.GET.get("ids", "").split(",") if i]
    if len(ids) > sfstore.MAX_COLLECTION:
        raise SfApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    all_or_none = request.GET.get("allOrNone", "false").lower() == "true"
    results, todo = [], []
    for rid in ids:
        sobj = get_sobject_for(rid)
        pk = sobj.parse_id(rid) if sobj else None
        row = (
            sobj.model.objects.filter(pk=pk).values_list("is_deleted", flat=True).first()
            if pk is not None
            else None
        )
        if pk is None:
            results.append(
                {
                    "id": rid,
                    "success": False,
                    "errors": [sfstore._err("MALFORMED_ID", f"malformed id {rid}", [])],
                }
            )
        elif row is None or row:
            results.append(
                {
                    "id": rid,
                    "success": False,
                    "errors": [sfstore._err("ENTITY_IS_DELETED", "entity is deleted", [])],
                }
            )
        else:
            results.append({"id": rid, "success": True, "errors": []})
            todo.append((sobj, pk))
    if all_or_none and any(not r["success"] for r in results):
        for r in results:
            if r["success"]:
                r["success"] = False
                r["errors"] = [
                    sfstore._err(
                        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the "
                        "request was using AllOrNone header",
                    )
                ]
        todo = []
    for sobj, pk in todo:
        sfstore.delete_records(sobj, [pk])
    return _json(results)


def get_sobject_for(rid):
    from .schema import sobject_for_id

    return sobject_for_id(rid)


@api(["PATCH"])
def collections_upsert(request, ctx, name, ext):
    sobj = _sobject(name)
    ext_field = sobj.field(ext)
    if ext_field is None or not (ext_field.external_id or ext_field.api == "Id"):
        raise SfApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {ext}",
        )
    records, all_or_none = _collection_body(request)
    for rec in records:
        if _record_type(rec) is not sobj:
            raise SfApiError(
                400, "INVALID_TYPE", f"Every record of this upsert must be a {sobj.name}"
            )
    plans = sfstore.plan_records(sobj, records, "upsert", ctx.cfg, ctx.counts, ext_field)
    if all_or_none and any(p.errors for p in plans):
        sfstore.rollback_all(plans)
    sfstore.apply_plans(plans, ctx.counts)
    ctx.counts["sf.records_failed"] += sum(1 for p in plans if p.errors)
    return _json([p.result(upsert=True) for p in plans])


@api(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, ctx, rest=""):
    raise SfApiError(404, "NOT_FOUND", "The requested resource does not exist")
