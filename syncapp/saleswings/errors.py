"""How the SalesWings backend client reports failures. Messages never contain the token."""


class SalesWingsError(Exception):
    """Base class. `status` is the HTTP status and `code` the contract's error code, if any."""

    def __init__(self, message, *, status=None, code=""):
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(SalesWingsError):
    """No token, or the backend refused it (401 invalid_token)."""


class TransientError(SalesWingsError):
    """5xx, 429, timeouts or connection errors that outlasted the retries."""


class BadResponse(SalesWingsError):
    """An answer that is not JSON or does not have the contract's shape."""


class RequestError(SalesWingsError):
    """The backend refused the request itself (400, 404, 405, 413): retrying cannot help."""
