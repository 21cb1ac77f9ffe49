"""How the Salesforce seam reports failures (design.md §2).

- `TransientError`: 5xx, timeouts, connection errors, UNABLE_TO_LOCK_ROW, still failing after
  the bounded retries. The step's batch fails; the data stays pending for the next cycle.
- `LimitExhausted`: the org's daily API requests are used up (403 REQUEST_LIMIT_EXCEEDED).
  It is a `StopStep` (syncapp.errors): the step stops, what it did stands, the rest stays
  pending.
- `PermanentError`: anything else (bad query, missing field, no access, failed login); the
  message says what Salesforce answered.

Record-level failures (a validation rule, say) are not raised: they come back in
`RecordResult`s. Messages never contain a session id, password, secret or key.
"""

from syncapp.errors import StopStep


class SalesforceError(Exception):
    """Base class. `code` is Salesforce's error code when it sent one; `status` the HTTP one."""

    def __init__(self, message, *, code="", status=None):
        super().__init__(message)
        self.code = code
        self.status = status
        # Set by writes that fail part-way: the RecordResults of the records written before
        # the failing call (a prefix of the input, in order).
        self.partial_results = []


class TransientError(SalesforceError):
    """A temporary failure that outlasted the retries."""


class LimitExhausted(SalesforceError, StopStep):
    """The org's daily API request limit is used up: stop the step, keep the data pending."""


class PermanentError(SalesforceError):
    """A failure that retrying cannot fix."""


class AuthenticationError(PermanentError):
    """Logging in failed (wrong credentials, connected app not authorized, bad key)."""


class ConfigurationError(PermanentError):
    """The SALESFORCE_* settings do not describe a usable connection."""
