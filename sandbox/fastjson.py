"""The stand-ins' JSON, encoded (their answers) and decoded (their stored values) by orjson.

orjson encodes a query page an order of magnitude faster than the standard library (Django's
`JsonResponse`); the stand-ins share the machine's cores with the sync they serve, so what
they spend is taken from it.

The text differs from `JsonResponse`'s only in spelling: compact, and non-ASCII characters
as UTF-8 rather than `\\u` escapes. Date-times, decimals and the like go through Django's
encoder as before. What orjson cannot encode (integers past 64 bits, say) falls back to the
standard library. orjson writes NaN and Infinity as null: an answer that must carry them on
purpose (a fault the backend stand-in injects) uses `JsonResponse`. Decoding (the stored
tags and scores) falls back to the standard library for what orjson refuses (NaN, say); an
integer past 64 bits comes as a float, as in `syncapp.fastjson`.
"""

import json

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

_default = DjangoJSONEncoder().default
# Date-times through Django's encoder (its spelling, as JsonResponse wrote them).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def dumps(data):
    """JSON bytes of `data`."""
    try:
        return orjson.dumps(data, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def json_response(data, status=200):
    return HttpResponse(dumps(data), status=status, content_type="application/json")


def loads(data):
    """`json.loads`, by orjson where it can."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
