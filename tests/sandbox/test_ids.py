"""The stand-in's record Ids: Salesforce's shape, and a round trip to the integer key."""

import random

import pytest

from sandbox.ids import make_id, parse_id

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def reference_id(prefix, number):
    """Salesforce's rule, one character at a time: base 62, then per 5 characters of the
    first 15 a suffix letter whose bits mark the upper-case ones (the first, the lowest)."""
    body = ""
    while number:
        number, digit = divmod(number, 62)
        body = ALPHABET[digit] + body
    id15 = prefix + body.rjust(12, "0")
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << pos for pos in range(5) if id15[chunk * 5 + pos].isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def test_a_worked_example():
    # 001A0 00000 6Vm9r: "A" is the 4th character of the first five (bit 8: "I"), the next
    # five have no capital ("A"), "V" is the 2nd of the last five (bit 2: "C").
    assert parse_id("001A0000006Vm9rIAC", "001") == parse_id("001A0000006Vm9r", "001")
    assert make_id("001", parse_id("001A0000006Vm9r", "001")) == "001A0000006Vm9rIAC"


@pytest.mark.parametrize("prefix", ["00Q", "003", "001", "01g", "a0X"])
def test_round_trip_against_the_reference(prefix):
    rng = random.Random(prefix)
    numbers = [0, 1, 61, 62, 3843, 3844, 3845, 62**12 - 1]
    numbers += [rng.randrange(62**12) for _ in range(2000)] + list(range(99_000, 101_000))
    for number in numbers:
        made = make_id.__wrapped__(prefix, number)
        assert made == reference_id(prefix, number)
        assert parse_id.__wrapped__(made, prefix) == number
        assert parse_id.__wrapped__(made[:15], prefix) == number


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        "",
        "003000000000001AAA",  # another object's prefix
        "00Q-bad",
        "00Q000000000001AAAA",  # 19 characters
        "00Q00000000001!AAA",  # not base 62
        "00Q00000000000-",
        "00Q000000000\u00e9AAAA",
        "00Q000000000001AAB",  # the wrong suffix
    ],
)
def test_not_one_of_ours(value):
    assert parse_id.__wrapped__(value, "00Q") is None


def test_the_suffix_is_case_insensitive():
    made = make_id("00Q", 123_456)
    assert parse_id(made[:15] + made[15:].lower(), "00Q") == 123_456
