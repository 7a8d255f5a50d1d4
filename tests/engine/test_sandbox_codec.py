"""The data-only codec between the candidate and the judge (pure functions, no sandbox)."""

from __future__ import annotations

import collections
import decimal
import fractions
import json

import pytest

from rewardlab.engine._sandbox_server import CodecError, decode_value, encode_value

VALUES = [
    None, True, False, 0, -7, 1 << 80, -(1 << 200), 1.5, float("inf"), "text", b"\x00\xff",
    [1, [2, (3,)]], (1, "a"), {1, 2}, frozenset({"x"}), {"k": [1, {"n": None}], (1, 2): 3},
    3 + 4j, fractions.Fraction(1, 3), decimal.Decimal("1.10"), [], (), {},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_data_round_trips_through_json_with_exact_types(value):
    wire = json.loads(json.dumps(encode_value(value)))
    back = decode_value(wire)
    assert back == value and type(back) is type(value)


def test_nan_round_trips():
    back = decode_value(json.loads(json.dumps(encode_value(float("nan")))))
    assert back != back


def test_subclasses_of_builtin_data_travel_as_their_base_value():
    point = collections.namedtuple("Point", "x y")(1, 2)
    assert decode_value(encode_value(point)) == (1, 2)
    assert type(decode_value(encode_value(point))) is tuple
    counter = collections.Counter("aab")
    assert type(decode_value(encode_value(counter))) is dict

    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    back = decode_value(encode_value(Liar(0.0)))
    assert type(back) is float and back != 3.0  # its __eq__ stays behind


def test_objects_are_not_data_without_a_handle_table():
    with pytest.raises(CodecError):
        encode_value(object())
    refs: list = []
    assert encode_value(object(), refs)[0] == "r" and len(refs) == 1


@pytest.mark.parametrize("wire", [
    {"a": 1},                       # JSON objects are not a value
    ["zz", 1],                      # unknown tag
    ["d", 1],                       # odd dict
    ["S", ["l", 1]],                # unhashable set member
    ["i", "not hex"],
    ["Q", 1, 0],                    # zero denominator
    1 << 70,                        # a plain integer out of range
    [],
    ["r", 0, "x"],                  # a handle where none may be
])
def test_malformed_values_are_a_typed_error(wire):
    with pytest.raises(CodecError):
        decode_value(wire)


def test_nesting_is_bounded():
    value: list = []
    for _ in range(300):
        value = [value]
    with pytest.raises(CodecError):
        encode_value(value)
    wire: list = ["l"]
    for _ in range(300):
        wire = ["l", wire]
    with pytest.raises(CodecError):
        decode_value(wire)
