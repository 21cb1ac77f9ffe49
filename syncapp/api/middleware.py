"""Every error under /Sync/v1/ is JSON, in the API's one shape, whatever layer answered it.

DRF's views answer their own errors in that shape (`syncapp.api.exceptions`); this catches the
rest: an error page from Django itself (a 500 of a view that failed while rendering, a
SuspiciousOperation's 400, a 503 of the startup middleware) is replaced by its JSON twin.
"""

from http import HTTPStatus

from django.http import JsonResponse

PREFIX = "/Sync/v1/"
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _is_json(response):
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class JSONErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(PREFIX):
            return response
        if _is_json(response):
            return response
        status = response.status_code
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code = CODES.get(status) or ("server_error" if status >= 500 else "error")
        if status == 503:
            code = "unavailable"
        message = "An unexpected error occurred." if status == 500 else f"{phrase}."
        replacement = JsonResponse({"error": {"code": code, "message": message}}, status=status)
        for header in ("Retry-After", "Allow", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement
