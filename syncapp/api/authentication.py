import re

from rest_framework import authentication, exceptions

# DRF's keys are 40 lower-case hex characters (Token.generate_key).
TOKEN_FORMAT = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, refusing malformed keys before they reach the database.

    PostgreSQL cannot even compare a string holding a NUL byte: without this check a header
    like `Token \\x00` is a 500 there instead of a 401.
    """

    def authenticate(self, request):
        """`Authorization: Token <key>`, or `Bearer <key>` (what many monitoring tools send)."""
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return super().authenticate(request)
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: Bearer <key>.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        if not TOKEN_FORMAT.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
