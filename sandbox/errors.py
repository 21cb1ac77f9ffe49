"""Errors the stand-ins answer, each in its service's shape."""


class SfApiError(Exception):
    """A Salesforce REST error: answered as `[{"message", "errorCode", "fields"}]`."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []

    def body(self):
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


def malformed(message):
    return SfApiError(400, "MALFORMED_QUERY", message)


class SwApiError(Exception):
    """A SalesWings API error: answered as `{"error": {"code", "message"}}`."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
