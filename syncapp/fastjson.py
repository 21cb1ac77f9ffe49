"""Decoding the JSON of the sync's hot read paths (query pages, backend pages, stored scores).

orjson decodes a query page of 2,000 records in about half the standard library's time, and
a small stored object in about a seventh. What orjson refuses and Python's parser reads
(NaN and Infinity, integers past 64 bits, lone surrogates, UTF-16 or UTF-32 text) goes to
the standard library, so the answer is the same either way: the same values, or the same
`json.JSONDecodeError` (a ValueError) for what is not JSON at all.
"""

import json

import orjson


def loads(data):
    """`json.loads`, by orjson where it can."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
