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

import jwt
from cryptography import x509
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import runtime, sfstore
from .errors import SfApiError
from .fastjson import json_response
from .ids import make_id
from .models import SfSession
from .schema import (
    ORG_VIEW,
    describe,
    describe_global_entry,
    get_sobject,
    org_view,
    visible_sobjects,
)

log = logging.getLogger(__name__)

ORG_ID = make_id("00D", 1)
USER_ID = make_id("005", 1)  # the integration user every session runs as
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


JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The JWT `aud` Salesforce accepts: its login servers (and here, the sandbox itself).
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
MAX_FORM_BYTES = 1 << 20


def _read_chunked(raw):
    """A chunked transfer-encoded body from a raw stream (RFC 9112 section 7.1)."""
    out = bytearray()
    while True:
        line = raw.readline(1024)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise ValueError("malformed chunk size") from None
        if size == 0:
            while raw.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields
            return bytes(out)
        if len(out) + size > MAX_FORM_BYTES:
            raise ValueError("request body too large")
        out += raw.read(size)
        raw.readline(1024)  # the CRLF closing the chunk


def _form(request):
    """The token request's form, its body sent with a Content-Length or chunked (as
    Salesforce takes both). gunicorn decodes chunked bodies (`wsgi.input_terminated`);
    Django's development and test server hands the app a stream limited to the missing
    Content-Length, so the chunks are read from the connection beneath it."""
    env = request.environ
    chunked = "chunked" in env.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked or env.get("CONTENT_LENGTH"):
        return request.POST
    stream = env["wsgi.input"]
    if env.get("wsgi.input_terminated"):
        body = stream.read(MAX_FORM_BYTES + 1)
        if len(body) > MAX_FORM_BYTES:
            raise ValueError("request body too large")
    else:
        body = _read_chunked(getattr(getattr(stream, "_read", None), "__self__", stream))
    return QueryDict(body, encoding="utf-8")


def _jwt_subject(cfg, assertion):
    """The username a JWT bearer assertion names, checked as Salesforce checks it (RS256
    signature against the connected app's certificate, iss, aud, exp); else an OAuth error
    answer."""
    try:
        cert = x509.load_pem_x509_certificate(cfg.sf_jwt_certificate.encode())
    except ValueError:
        return None, _oauth_error("invalid_client", "invalid client credentials")
    try:
        claims = jwt.decode(
            assertion,
            cert.public_key(),
            algorithms=["RS256"],
            options={"require": ["iss", "sub", "aud", "exp"], "verify_aud": False},
            leeway=0,
        )
    except jwt.PyJWTError:
        return None, _oauth_error("invalid_grant", "invalid assertion")
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not any(str(a).rstrip("/") in (*JWT_AUDIENCES, base) for a in audiences):
        return None, _oauth_error("invalid_grant", "audience is invalid")
    if claims["iss"] != cfg.sf_client_id:
        return None, _oauth_error("invalid_client_id", "client identifier invalid")
    if claims["sub"] != cfg.sf_username:
        return None, _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return claims["sub"], None


@csrf_exempt
def oauth_token(request):
    if request.method != "POST":
        return _oauth_error("invalid_request", "must use HTTP POST", status=405)
    cfg = runtime.load_settings()
    try:
        p = _form(request)
    except ValueError as exc:
        return _oauth_error("invalid_request", f"unreadable request body: {exc}")
    grant = p.get("grant_type")
    if grant == JWT_GRANT:
        _, refused = _jwt_subject(cfg, p.get("assertion") or "")
        if refused:
            return refused
        return _issue_token(cfg)
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
    return _issue_token(cfg)


def _issue_token(cfg):
    token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(40)}"
    SfSession.objects.create(token=token, username=cfg.sf_username, created_at=timezone.now())
    runtime.bump({"sf.logins": 1})
    issued_at = str(int(time.time() * 1000))
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    user_id = USER_ID
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
    if org_id != ORG_ID or user_id != USER_ID:
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
    def __init__(self, cfg, version, counts, used, username=""):
        self.cfg = cfg
        self.version = version
        self.counts = counts
        self.used = used  # API calls used, this one included
        self.username = username  # the session's user


def _session_calls(token):
    """Count a call on this session; (its call count, its username), or (None, None) when
    the token is unknown."""
    table = connection.ops.quote_name(SfSession._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET calls = calls + 1 WHERE token = %s RETURNING calls, username",
            [token],
        )
        row = cur.fetchone()
    return row if row else (None, None)


# "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes. A
# request exceeding this limit returns a 431 Request Header Fields Too Large error. If the URI
# itself exceeds this limit, the request returns a 414 URI Too Long error" (Salesforce Help,
# knowledge article 000386264). Both are answered before the API (no API call), by the org's
# web server, not as Salesforce's JSON errors: the bodies are those real orgs send, as quoted
# in client libraries' reports (simple-salesforce#271, jsforce#1134 for 414;
# forcedotcom/cli#63, SFDX-Data-Move-Utility#649 for 431).
MAX_URI_BYTES = 16_384
BAD_MESSAGE = "<h1>Bad Message {status}</h1><pre>reason: {reason}</pre>"


def _bad_message(status, reason):
    return HttpResponse(
        BAD_MESSAGE.format(status=status, reason=reason),
        status=status,
        content_type="text/html;charset=iso-8859-1",
    )


def _header_bytes(request):
    """The request's header lines as sent ("Name: value" and CRLF each)."""
    return sum(len(f"{name}: {value}\r\n".encode()) for name, value in request.headers.items())


def _uri_bytes(request):
    query = request.META.get("QUERY_STRING", "")
    return len(request.get_full_path().partition("?")[0].encode()) + (
        len(query) + 1 if query else 0
    )


def api(methods):
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, version=LATEST_VERSION, **kwargs):
            started, cpu_started = time.perf_counter(), time.thread_time()
            uri = _uri_bytes(request)
            if uri > MAX_URI_BYTES:
                # Refused before the API: not an API call, and not Salesforce's JSON errors.
                runtime.bump({"sf.rejected.URI_TOO_LONG": 1})
                return _bad_message(414, "URI Too Long")
            if uri + _header_bytes(request) > MAX_URI_BYTES:
                runtime.bump({"sf.rejected.HEADERS_TOO_LARGE": 1})
                return _bad_message(431, "Request Header Fields Too Large")
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
        calls, username = _session_calls(token) if token else (None, None)
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
        # The org as this user sees it: field-level security, metadata not deployed.
        shown = ORG_VIEW.set(org_view(cfg))
        try:
            return view(request, Ctx(cfg, version, counts, used + 1, username), **kwargs)
        finally:
            ORG_VIEW.reset(shown)
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
    out = {
        name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "composite", "limits")
    }
    # As Salesforce lists it: the running user's identity URL, absolute.
    out["identity"] = f"{settings.SANDBOX_BASE_URL.rstrip('/')}/id/{ORG_ID}/{USER_ID}"
    return _json(out)


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
    return _json(
        sfstore.run_query(
            request.GET.get("q"), False, ctx.version, _page_size(request), ctx.username
        )
    )


@api(["GET"])
def query_all(request, ctx):
    return _json(
        sfstore.run_query(
            request.GET.get("q"), True, ctx.version, _page_size(request), ctx.username
        )
    )


@api(["GET"])
def query_more(request, ctx, locator):
    return _json(sfstore.query_more(locator, ctx.version))


@api(["GET"])
def describe_global(request, ctx):
    return _json(
        {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [describe_global_entry(s, ctx.version) for s in visible_sobjects()],
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
