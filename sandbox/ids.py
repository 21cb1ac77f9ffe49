"""Salesforce-shaped record Ids derived from integer keys.

An Id is a 3-character key prefix, 12 base-62 characters encoding the integer key, and the
3-character case-insensitivity suffix Salesforce computes (one character per 5 of the first
15, marking which of them are upper-case). Decoding checks prefix and suffix.

Every record a query page returns and every record a collection call names goes through
these two functions, so they work two base-62 digits at a time and read the suffix's bits
off a translated copy of the Id, faster than digit by digit and character by character.
"""

import functools

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BODY = 12
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 62 * 62: two digits, in order
_PAIR_VALUE = {pair: value for value, pair in enumerate(_PAIRS)}
# An Id's characters as "1" (upper-case) or "0": each 5-character chunk's bits, in binary
# (its first character the lowest bit).
_CASE_BITS = str.maketrans({c: "1" if c.isupper() else "0" for c in _ALPHABET})


def _suffix(id15):
    """The suffix of 15 characters of `_ALPHABET`."""
    bits = id15.translate(_CASE_BITS)
    return (
        _SUFFIX[int(bits[4::-1], 2)]
        + _SUFFIX[int(bits[9:4:-1], 2)]
        + _SUFFIX[int(bits[14:9:-1], 2)]
    )


@functools.lru_cache(maxsize=262144)
def make_id(prefix, number):
    body = ""
    while number:
        number, pair = divmod(number, 3844)
        body = _PAIRS[pair] + body
    id15 = prefix + body.rjust(_BODY, "0")
    return id15 + _suffix(id15)


@functools.lru_cache(maxsize=262144)
def parse_id(value, prefix):
    """The integer key of an Id with this prefix, or None when it is not one of ours.

    Accepts 15- and 18-character forms (the 18-character suffix must be right).
    """
    if not isinstance(value, str) or len(value) not in (15, 18) or not value.startswith(prefix):
        return None
    n = 0
    for start in range(3, 15, 2):
        pair = _PAIR_VALUE.get(value[start : start + 2])
        if pair is None:  # not base 62
            return None
        n = n * 3844 + pair
    if len(value) == 18 and value[15:].upper() != _suffix(value[:15]):
        return None
    return n
