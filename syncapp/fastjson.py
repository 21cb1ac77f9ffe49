"""Decoding the JSON of the sync's hot read paths (query pages, backend pages, stored scores).

orjson decodes a query page in about half the standard library's time, and a small stored
object in a fraction of it. It parses into a buffer of its own first, so a page's decoding
peaks higher, freed with the call.
What orjson refuses and Python's parser reads (NaN and Infinity, lone surrogates, UTF-16 or
UTF-32 text) goes to the standard library, so the answer is the same either way, and what is
not JSON at all raises what `json.loads` raises (a ValueError). One difference: an integer
past 64 bits comes as a float (orjson's reading; Python's is exact). Nothing the sync reads
is that large: Salesforce answers numbers as doubles, and a backend `seq` that large is
refused either way (past what the database stores), only with another message.
"""

import json

import orjson


def loads(data):
    """`json.loads`, by orjson where it can."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
