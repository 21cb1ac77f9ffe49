"""Run-record texts as read-only callers see them: the failure named, without the addresses.

An error message often carries where the failure happened ("HTTPConnectionPool(host='10.0.0.5',
port=5432): Max retries exceeded with url: /services/oauth2/token"). SW Studio Users and their
API tokens see it with hosts, ports, URLs and paths replaced; Administrators see it whole.
"""

import re

HIDDEN = "<hidden>"

_PATTERNS = [
    # Any URL: scheme://anything up to a space, quote or closing bracket.
    re.compile(r"""\b[a-z][a-z0-9+.-]*://[^\s'"<>)\]]*[^\s'"<>)\].,:;]""", re.IGNORECASE),
    # requests / urllib3: host='...', port=NNN, url: /path
    re.compile(r"""\bhost=('[^']*'|"[^"]*"|[^\s,)]+)""", re.IGNORECASE),
    re.compile(r"\bport=\d+", re.IGNORECASE),
    re.compile(r"""(\burl: ?)(/[^\s'"()]*)""", re.IGNORECASE),
    # [IPv6]:port, IPv4[:port]
    re.compile(r"\[[0-9a-f:.]+\](:\d+)?", re.IGNORECASE),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    # name:port (localhost:5432, db.internal:6379); a name starts with a letter, so times stay
    re.compile(r"\b[a-z](?:[a-z0-9.-]*[a-z0-9])?:\d{2,5}\b", re.IGNORECASE),
    # An object's memory address in a repr (<... object at 0x7f...>)
    re.compile(r"\bat 0x[0-9a-f]+", re.IGNORECASE),
]


def _replace(match):
    text = match.group(0)
    lowered = text.lower()
    if lowered.startswith("host="):
        return f"host={HIDDEN}"
    if lowered.startswith("port="):
        return f"port={HIDDEN}"
    if lowered.startswith("url"):
        return f"{match.group(1)}{HIDDEN}"
    if lowered.startswith("at 0x"):
        return "at …"
    return HIDDEN


def redact(text):
    """`text` with hosts, ports, URLs and paths replaced by <hidden>."""
    if not text or not isinstance(text, str):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_replace, text)
    return text


def redact_steps(steps):
    """A cycle's step entries with their error texts redacted; copies."""
    return [
        {**entry, "errors": [redact(e) for e in entry.get("errors") or []]}
        if isinstance(entry, dict)
        else entry
        for entry in steps or []
    ]
