"""The Sync/v1 endpoints: thin shells over `syncapp.engine.control`; each answers the status
JSON (`syncapp.api.status`).

Every request goes through the same gate, in this order: the method (405), authentication
(401), the role (403), the POST rate limit (429), then the query string and body (400, 411,
413, 415). Only then does anything change, so a bad request never changes state.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from syncapp import roles
from syncapp.engine import control

from . import status
from .exceptions import BadRequest, LengthRequired, PayloadTooLarge, SyncRunningError
from .permissions import IsSWStudioAdministrator, IsSWStudioViewer
from .serializers import ErrorSerializer, SyncStatusSerializer, parse_flag
from .throttling import SyncPostThrottle

# None of the endpoints takes a body; `{}` is tolerated because many clients send it.
MAX_BODY_BYTES = 1024
# DRF's format override (?format=json / ?format=api for the browsable API).
COMMON_QUERY_PARAMETERS = frozenset({"format"})


def _error(description):
    return OpenApiResponse(ErrorSerializer, description=description)


COMMON_ERRORS = {
    400: _error(
        "Malformed query string, header or body (`unknown_parameter`, `parse_error`, ...)."
    ),
    401: _error("No or invalid credentials (`not_authenticated`, `authentication_failed`)."),
    403: _error("Authenticated, but without the role this endpoint needs."),
    405: _error("Wrong HTTP method."),
    411: _error("A chunked body (no Content-Length): refused, not read as empty."),
    413: _error("Request body over 1 KiB."),
    415: _error("A body that is not JSON."),
}
POST_ERRORS = {
    **COMMON_ERRORS,
    429: _error("Too many POSTs by this user; `Retry-After` and `retryAfter` say when to retry."),
}


class BoundedJSONParser(JSONParser):
    """JSON whose nesting outruns the decoder's recursion limit is a malformed body (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class SyncAPIView(APIView):
    parser_classes = [BoundedJSONParser]
    throttle_classes = [SyncPostThrottle]
    query_parameters = frozenset()

    def initial(self, request, *args, **kwargs):
        # A wrong method is answered before authentication: which methods an endpoint takes
        # is public (see the schema), and "405" helps a caller more than "401" would.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        # DRF answers an unknown ?format= with a bare 404 ("Not found.") from its content
        # negotiation: name the parameter instead.
        formats = [r.format for r in self.get_renderers()]
        asked = request.query_params.get("format")
        if asked is not None and asked not in formats:
            raise BadRequest(
                f"format must be {' or '.join(formats)}, not {asked!r}.",
                "invalid_parameter",
                parameter="format",
            )
        super().initial(request, *args, **kwargs)
        self.check_query_string(request)
        self.check_body(request)

    def check_query_string(self, request):
        allowed = self.query_parameters | COMMON_QUERY_PARAMETERS
        for name, values in request.query_params.lists():
            if name not in allowed:
                expected = ", ".join(sorted(allowed))
                raise BadRequest(
                    f"Unknown query parameter {name!r}. This endpoint takes: {expected}.",
                    "unknown_parameter",
                    parameter=name,
                )
            if len(values) > 1:
                raise BadRequest(
                    f"Query parameter {name!r} is given more than once.",
                    "repeated_parameter",
                    parameter=name,
                )

    def check_body(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise LengthRequired()
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            raise BadRequest(
                "The Content-Length header is not a number.", "invalid_header"
            ) from None
        if length < 0:
            raise BadRequest("The Content-Length header is negative.", "invalid_header")
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; this endpoint takes none "
                f"(at most {MAX_BODY_BYTES} bytes of `{{}}`)."
            )
        # Parsing raises ParseError (400) for malformed JSON, UnsupportedMediaType (415) for
        # other content types.
        data = request.data
        if data != {}:
            raise BadRequest(
                "This endpoint takes no request body (send none, or `{}`). "
                "Parameters go in the query string.",
                "unexpected_body",
            )

    def flag(self, request, name):
        raw = request.query_params.get(name)
        if raw is None:
            return False
        value = parse_flag(raw)
        if value is None:
            raise BadRequest(
                f"{name} must be true, false, 1 or 0, not {raw!r}.",
                "invalid_parameter",
                parameter=name,
            )
        return value


class GetSyncStatus(SyncAPIView):
    permission_classes = [IsSWStudioViewer]

    @extend_schema(
        operation_id="GetSyncStatus",
        summary="The sync's status",
        description=(
            "Whether the sync is on, its active async jobs, the Watcher and Runner schedules "
            "and the newest SW Apex Job. Each part is `{}` when there is nothing. "
            "Roles: SW Studio User or SW Studio Administrator (a User sees the run record's "
            "note and errors with hosts, ports and URLs replaced by `<hidden>`)."
        ),
        responses={200: SyncStatusSerializer, **COMMON_ERRORS},
        tags=["Sync"],
    )
    def get(self, request):
        # SW Studio Users see run-record errors without internal addresses.
        return Response(status.sync_status(redacted=not roles.is_administrator(request.user)))


class RestartSync(SyncAPIView):
    permission_classes = [IsSWStudioAdministrator]
    query_parameters = frozenset({"force"})

    @extend_schema(
        operation_id="RestartSync",
        summary="Turn the sync off and on",
        description=(
            "Removes every schedule and queued job of the sync, then turns it on again (a new "
            "Watcher, first firing a minute later). Refused with 412 while a cycle is Queued "
            "or Processing, unless `force=true`, which aborts that cycle. The caller becomes "
            "the running user. Role: SW Studio Administrator."
        ),
        parameters=[
            OpenApiParameter(
                "force",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="Restart even while a cycle runs. true/false in any case, or 1/0.",
            )
        ],
        request=None,
        responses={
            200: SyncStatusSerializer,
            412: _error("A cycle is running (`sync_running`); `error.status` is the status."),
            **POST_ERRORS,
        },
        tags=["Sync"],
    )
    def post(self, request):
        force = self.flag(request, "force")
        try:
            control.restart(request.user, force=force)
        except control.SyncRunning as exc:
            raise SyncRunningError(
                f"{exc} Use force=true to restart anyway.", status.sync_status()
            ) from exc
        return Response(status.sync_status())


class TurnSyncOn(SyncAPIView):
    permission_classes = [IsSWStudioAdministrator]

    @extend_schema(
        operation_id="TurnSyncOn",
        summary="Turn the sync on",
        description=(
            "Creates the Watcher; the first cycle starts when it fires. Idempotent: when the "
            "sync is already on nothing changes (the running user stays who turned it on). "
            "Otherwise the caller becomes the running user. Role: SW Studio Administrator."
        ),
        request=None,
        responses={200: SyncStatusSerializer, **POST_ERRORS},
        tags=["Sync"],
    )
    def post(self, request):
        control.turn_on(request.user)
        return Response(status.sync_status())


class TurnSyncOff(SyncAPIView):
    permission_classes = [IsSWStudioAdministrator]

    @extend_schema(
        operation_id="TurnSyncOff",
        summary="Turn the sync off",
        description=(
            "Removes every schedule and aborts every queued or running job and cycle of the "
            "sync. Idempotent. Role: SW Studio Administrator."
        ),
        request=None,
        responses={200: SyncStatusSerializer, **POST_ERRORS},
        tags=["Sync"],
    )
    def post(self, request):
        control.turn_off(
            request.user, reason=f"The sync was turned off by {request.user} through the API."
        )
        return Response(status.sync_status())


@extend_schema(exclude=True)
class Index(APIView):
    """/Sync/v1/ itself: where the endpoints and their documentation are (what the browsable
    API's breadcrumb links to)."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        def url(name):
            return request.build_absolute_uri(reverse(f"sync-api:{name}"))

        return Response(
            {
                "endpoints": {
                    name: url(name)
                    for name in ("GetSyncStatus", "TurnSyncOn", "TurnSyncOff", "RestartSync")
                },
                "docs": url("docs"),
                "schema": url("schema"),
            }
        )


@extend_schema(exclude=True)
class NotFound(APIView):
    """Any other path under /Sync/v1/: a JSON 404 instead of Django's HTML page."""

    authentication_classes = []
    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(
            f"No endpoint at {request.path}. The endpoints are listed at /Sync/v1/docs."
        )


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI for the Sync API."""

    # Split: the initializer is a script file of its own (`?script`), so the page runs under
    # the Content-Security-Policy with no inline script.
    template_name = "api/swagger_ui.html"

    # Its page renderer takes only the page's own context: anything else it would answer (an
    # error, OPTIONS' metadata) is rendered as JSON instead of failing with a 500.
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 or request.method == "OPTIONS":
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response
