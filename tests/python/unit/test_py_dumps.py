"""comfy._core.py_dumps (the native serialiser of every JSON answer and WebSocket message) against
Python's own json.dumps, the byte-for-byte reference, on fixed and random values."""
import json
import math
import random
import struct
import sys

import pytest

from comfy import _core

FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 1.0000000000000002,
          5e-324, 2.2250738585072014e-308, sys.float_info.max, -sys.float_info.max, 123456789012345.0,
          104857600.0, 0.30000000000000004, 1 / 3, 2 / 3, 100.0, 1e22, 1e21, 1.7976931348623157e308, 3.14159,
          6.02214076e23, 1.602176634e-19, 12345678.9, 0.000123, 1234567890123456789.0]


def _random_float(rng):
    kind = rng.random()
    if kind < 0.4:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]  # any bit pattern
    if kind < 0.7:
        return rng.uniform(-1e6, 1e6)
    if kind < 0.85:
        return round(rng.uniform(0, 100), rng.randint(0, 6))  # what widgets hold: 7.5, 0.35
    return float(rng.randint(-10**17, 10**17))


def _random_string(rng):
    pool = ["a", "Z", " ", '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "é", "ß", "€",
            "中", "😀", "\U0001f600", "\u2028", "\ufffd", "prompt", "%batch_num%"]
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))


def _random_value(rng, depth=0):
    kind = rng.randint(0, 8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-2**63, 2**63 - 1)
    if kind == 3:
        f = _random_float(rng)
        return 0.0 if math.isnan(f) or math.isinf(f) else f
    if kind in (4, 5):
        return _random_string(rng)
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


@pytest.mark.parametrize("value", FLOATS + [-x for x in FLOATS])
def test_floats(value):
    assert _core.py_dumps(value) == json.dumps(value)


def test_special_floats_as_python_writes_them():
    assert _core.py_dumps([math.nan, math.inf, -math.inf]) == "[NaN, Infinity, -Infinity]"


def test_random_floats():
    rng = random.Random(1234)
    values = [_random_float(rng) for _ in range(20000)]
    values = [v for v in values if not (math.isnan(v) or math.isinf(v))]
    assert _core.py_dumps(values) == json.dumps(values)


def test_random_documents():
    rng = random.Random(99)
    for _ in range(300):
        doc = {"prompt": _random_value(rng), "n": rng.randint(0, 10**6), "items": [_random_value(rng) for _ in range(3)]}
        assert _core.py_dumps(doc) == json.dumps(doc)


def test_strings_and_ints():
    for s in ["", "plain", 'q"uote\\back', "\x00\x01\x1f\x7f", "é中😀", "a" * 1000 + "\n" + "b" * 1000]:
        assert _core.py_dumps(s) == json.dumps(s)
    for i in [0, 1, -1, 2**63 - 1, -2**63, 2**64 - 1, 10**15]:
        assert _core.py_dumps(i) == json.dumps(i)
