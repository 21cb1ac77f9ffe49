"""SOQL literals and IN-list chunking.

Two limits bound a query with a long IN list: SOQL statements are at most 100,000 characters,
and a REST query travels in the URL of a GET, where Salesforce refuses URI + headers above
16,384 bytes (414 / 431). URL-encoding roughly adds a third to an e-mail list, so the URI limit
is the one that binds; chunks respect both.
"""

from urllib.parse import quote_plus

SOQL_MAX_LENGTH = 100_000
# Room left for whatever the server adds, and for the caller's mistakes in counting.
SOQL_MARGIN = 1_000
# The REST path before `?q=` (…/services/data/vNN.N/query/?q=) plus the host, generously.
URI_OVERHEAD = 200
PLACEHOLDER = "{values}"

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def quote(value):
    """A SOQL string literal: `O'Brien` -> `'O\\'Brien'`."""
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in str(value)) + "'"


def in_chunks(template, values, *, chunk_chars=None, max_uri_bytes=None):
    """Yield the statements `template` makes with successive chunks of `values`.

    `template` holds `{values}` once; it is replaced by quoted, escaped, comma-joined values.
    Duplicates (case-insensitively, as SOQL compares text) and None are dropped, the first
    occurrence kept, so each record is selected by one chunk only. Each statement stays within
    SOQL's length limit (minus a margin, or `chunk_chars` characters of values if smaller)
    and, with `max_uri_bytes`, its URL-encoded form fits that budget.
    """
    if template.count(PLACEHOLDER) != 1:
        raise ValueError(f"The SOQL template must contain {PLACEHOLDER} exactly once")
    fixed = template.replace(PLACEHOLDER, "")
    char_budget = SOQL_MAX_LENGTH - SOQL_MARGIN - len(fixed)
    if chunk_chars is not None:
        char_budget = min(char_budget, chunk_chars)
    uri_budget = None
    if max_uri_bytes:
        uri_budget = max_uri_bytes - URI_OVERHEAD - len(quote_plus(fixed))

    seen = set()
    chunk, chars, uri = [], 0, 0
    for value in values:
        # SOQL compares text case-insensitively: `'A@x.com'` and `'a@x.com'` select the same
        # records, and sending both would yield them twice. (Use 18-character Ids.)
        key = str(value).lower() if value is not None else None
        if key is None or key in seen:
            continue
        seen.add(key)
        literal = quote(value)
        # +1 / +3: the comma before it, raw and URL-encoded (%2C).
        add_chars = len(literal) + (1 if chunk else 0)
        add_uri = len(quote_plus(literal)) + (3 if chunk else 0)
        if len(literal) > char_budget or (uri_budget is not None and add_uri > uri_budget):
            raise ValueError(f"A single value is too long for one query: {literal[:60]}…")
        if chunk and (
            chars + add_chars > char_budget
            or (uri_budget is not None and uri + add_uri > uri_budget)
        ):
            yield template.replace(PLACEHOLDER, ",".join(chunk))
            chunk, chars, uri = [], 0, 0
            add_chars, add_uri = len(literal), len(quote_plus(literal))
        chunk.append(literal)
        chars += add_chars
        uri += add_uri
    if chunk:
        yield template.replace(PLACEHOLDER, ",".join(chunk))
