"""Salesforce-shaped record Ids derived from integer keys.

An Id is a 3-character key prefix, 12 base-62 characters encoding the integer key, and the
3-character case-insensitivity suffix Salesforce computes (one character per 5 of the first
15, marking which of them are upper-case). Decoding checks prefix and suffix.
"""

import functools

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BODY = 12


def _suffix(id15):
    out = []
    for chunk in range(3):
        bits = 0
        for pos in range(5):
            ch = id15[chunk * 5 + pos]
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX[bits])
    return "".join(out)


@functools.lru_cache(maxsize=262144)
def make_id(prefix, number):
    digits = []
    n = number
    while n:
        n, r = divmod(n, 62)
        digits.append(_ALPHABET[r])
    body = "".join(reversed(digits)).rjust(_BODY, "0")
    id15 = prefix + body
    return id15 + _suffix(id15)


@functools.lru_cache(maxsize=262144)
def parse_id(value, prefix):
    """The integer key of an Id with this prefix, or None when it is not one of ours.

    Accepts 15- and 18-character forms (the 18-character suffix must be right).
    """
    if not isinstance(value, str) or len(value) not in (15, 18) or not value.startswith(prefix):
        return None
    id15 = value[:15]
    if len(value) == 18 and value[15:].upper() != _suffix(id15):
        return None
    n = 0
    for ch in id15[3:]:
        i = _INDEX.get(ch)
        if i is None:
            return None
        n = n * 62 + i
    return n
