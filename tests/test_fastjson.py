"""The orjson codecs of the hot paths answer what the standard library answers."""

import datetime as dt
import decimal
import json
import math

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from sandbox import fastjson as sandbox_json
from syncapp import fastjson

LOADS = [fastjson.loads, sandbox_json.loads]

SAME_AS_JSON = [
    b'{"records":[{"Id":"00Q000000000001AAA","Score":42.5,"Ok":true,"None":null}]}',
    '{"text": "caf\\u00e9 \\u2603", "n": [1, -2, 3.25e-3]}',
    '{"duplicate": 1, "duplicate": 2}',
    "[]",
    '"just a string"',
    str(2**63 - 1),
]
# orjson refuses these; Python's parser reads them, and so must we (a backend that sends NaN
# scores is handled per item, not by failing its whole page).
ONLY_PYTHON_READS = [
    b'{"scores": {"engagement": NaN, "fit": Infinity, "x": -Infinity}}',
    '"\\ud800"',  # a lone surrogate
    '{"a": 1}'.encode("utf-16"),
]
NOT_JSON = [b"", b"<html>", b'{"a": 1', b"\xff\xfe\xfd"]


@pytest.mark.parametrize("loads", LOADS)
@pytest.mark.parametrize("text", SAME_AS_JSON + ONLY_PYTHON_READS)
def test_loads_reads_what_json_reads(loads, text):
    got, want = loads(text), json.loads(text)
    if isinstance(want, dict) and "scores" in want:
        assert math.isnan(got["scores"]["engagement"])
        assert got["scores"]["fit"] == math.inf and got["scores"]["x"] == -math.inf
    else:
        assert got == want and type(got) is type(want)


@pytest.mark.parametrize("loads", LOADS)
@pytest.mark.parametrize("text", NOT_JSON)
def test_loads_refuses_what_json_refuses(loads, text):
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    with pytest.raises(ValueError) as ours:
        loads(text)
    assert type(ours.value) is type(theirs.value)


@pytest.mark.parametrize("loads", LOADS)
def test_an_integer_past_64_bits_comes_as_a_float(loads):
    assert loads(str(2**64 - 1)) == 2**64 - 1
    got = loads(f'{{"seq": {2**70}}}')["seq"]
    assert isinstance(got, float) and got == float(2**70)


def test_the_stand_ins_answers_mean_what_json_response_wrote():
    data = {
        "records": [
            {
                "Id": "003000000000001AAA",
                "Name": "Zoë Ångström",
                "When": dt.datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=dt.UTC),
                "Day": dt.date(2026, 11, 27),
                "Amount": decimal.Decimal("12.50"),
                "Score": 7.0,
                "Big": 2**70,
                "Flags": (True, False, None),
            }
        ],
        "done": True,
    }
    text = sandbox_json.dumps(data)
    assert isinstance(text, bytes)
    assert json.loads(text) == json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    record = json.loads(text)["records"][0]
    # Django's spellings, as JsonResponse wrote them.
    assert record["When"] == "2026-11-27T10:00:00.123Z" and record["Day"] == "2026-11-27"
    assert record["Amount"] == "12.50"
    assert record["Big"] == 2**70  # past orjson's 64 bits: the standard library wrote it


def test_json_response_is_compact_utf8_json():
    response = sandbox_json.json_response({"name": "Zoë", "n": [1, 2]}, status=201)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.content == '{"name":"Zoë","n":[1,2]}'.encode()
