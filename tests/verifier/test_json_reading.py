"""``parse_json`` reads exactly what ``json.loads`` reads, refusing a key given twice.

orjson reads where that is provably the same tree (issue 14: json's Python
hook, called once per object, was half of reading a large artifact); json
reads everything else again. The reference here is json's own reading with
every object's keys checked: same values, same types (1 != 1.0 != True,
-0.0 != 0.0), same key order, and the same message for what it refuses.
"""

from __future__ import annotations

import decimal
import json
import math
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import parse_json
from constructs_lib.loaders._read import _UNPROVEN, _orjson_tree
from tests.test_emit_text import _json_docs

GOLDEN = Path(__file__).parent.parent / "golden"


def typed(value: Any) -> Any:
    """``value`` with each scalar's exact type and each key's place (-0.0 is not 0.0)."""
    if isinstance(value, dict):
        return ("object", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("array", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


class _Twice(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _keys_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise _Twice(key)
    return dict(pairs)


def json_reads(text: str) -> Any:
    """json's reading, or its refusal as netfence words it."""
    try:
        return ("ok", typed(json.loads(text, object_pairs_hook=_keys_once)))
    except _Twice as twice:
        return (
            "refused",
            f"f.json: key {twice.key!r} appears twice in one object; Terraform and Kubernetes "
            "refuse or drop one of them: keep one",
        )
    except RecursionError:
        return ("refused", "f.json: not valid JSON: nested too deeply")
    except ValueError as exc:
        return ("refused", f"f.json: not valid JSON: {exc}")


def netfence(text: str) -> Any:
    try:
        return ("ok", typed(parse_json(text, "f.json")))
    except ArtifactError as exc:
        return ("refused", str(exc))


def fast(text: str) -> bool:
    """Whether orjson's tree is the one returned."""
    return _orjson_tree(text) is not _UNPROVEN


def _spellings(doc: Any, rnd: random.Random) -> list[str]:
    return [
        json.dumps(doc),
        json.dumps(doc, ensure_ascii=False, indent=rnd.choice([None, 0, 2])),
        json.dumps(doc, separators=(",", ":")),
    ]


PLAIN: list[Any] = ["", "a b", "é", "日本", "\U0001f600", "\u2028", 'a"b\\', "\x00\x1f\x7f", "a:b",
                    ":", "http://x:80", "-1e5", 0, -1, 8080, 2**63 - 1, -(2**63), 2**64 - 1, 1.5,
                    -0.0, 0.1, 1e-300, 5e-324, 1e15, True, False, None]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_random_documents_are_read_by_orjson_as_json_reads_them(seed: int) -> None:
    rnd = random.Random(seed)
    for doc in _json_docs(seed, PLAIN, 5, count=150):
        for text in _spellings(doc, rnd):
            assert fast(text), text
            assert netfence(text) == json_reads(text), text


# What orjson reads otherwise or not at all: json reads them, so they read as before.
HARD: list[Any] = [2**64, -(2**63) - 1, 10**30, -(10**400), 1e16, -1.8446744073709552e19, 1e308,
                   float("nan"), float("inf"), float("-inf"), "\ud800", "x\udfff", "a+b",
                   "\u003a"]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_random_documents_with_values_orjson_misreads_read_as_json_reads_them(seed: int) -> None:
    rnd = random.Random(seed)
    taken = []
    for doc in _json_docs(seed, PLAIN[::3] + HARD, 4, count=150):
        for text in _spellings(doc, rnd):
            taken.append(fast(text))
            assert netfence(text) == json_reads(text), text
    assert True in taken and False in taken


def _write(value: Any, rnd: random.Random, twice: list[int]) -> str:
    """JSON text of ``value``, where a key of some objects is given a second time.

    The second key is spelled as written or with an escape (``\\u0061`` for a),
    its value anything (colons included)."""
    if isinstance(value, list):
        return "[" + ", ".join(_write(v, rnd, twice) for v in value) + "]"
    if not isinstance(value, dict):
        return json.dumps(value)
    pairs = [f"{json.dumps(k)}: {_write(v, rnd, twice)}" for k, v in value.items()]
    if value and rnd.random() < 0.3:
        key = rnd.choice(list(value))
        spelled = rnd.choice(
            [json.dumps(key), '"' + "".join(f"\\u{ord(c):04x}" for c in key) + '"']
        )
        pairs.insert(rnd.randint(0, len(pairs)), f"{spelled}: {json.dumps(rnd.choice(PLAIN))}")
        twice.append(1)
    return "{" + ", ".join(pairs) + "}"


@pytest.mark.parametrize("seed", range(4))
def test_a_key_given_twice_anywhere_is_refused_naming_the_first_repeated_key(seed: int) -> None:
    rnd = random.Random(seed)
    refused = 0
    for doc in _json_docs(seed, PLAIN, 5, count=150):
        twice: list[int] = []
        text = _write(doc, rnd, twice)
        expected = json_reads(text)
        assert netfence(text) == expected, text
        if twice:
            assert expected[0] == "refused" and "appears twice" in expected[1]
            refused += 1
    assert refused > 20


def _twice(key: str) -> tuple[str, str]:
    return (
        "refused",
        f"f.json: key {key!r} appears twice in one object; Terraform and Kubernetes refuse "
        "or drop one of them: keep one",
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"kind": "NetworkPolicy", "spec": {}, "spec": {}}', "spec"),
        ('{"a": [{"b": {"c": 1, "d": 2, "c": 3}}]}', "c"),
        ('[1, {"x": {}}, {"y": 1, "y": 1}]', "y"),
        ('{"b": 1, "a": 1, "a": 2, "b": 2}', "a"),
        ('{"a": 1, "\\u0061": 2}', "a"),
        ('{"\\u00e9": 1, "é": 2}', "é"),
        ('{"a:b": "c:d", "a:b": "e:f:g"}', "a:b"),
        ('{"a:b": 1, "a\\u003ab": 2}', "a:b"),
        ('{"a:b": 1, "a\\u003Ab": 2}', "a:b"),
        # the escaped colon makes up for the colon of the dropped pair
        ('{"x": "\\u003a", "a": 1, "a": 2}', "a"),
        ('{"x": "\\u003A", "a": 1, "a": 2}', "a"),
        ('{"x": 1e16, "a": 1, "a": 2}', "a"),
    ],
)
def test_a_key_given_twice_is_refused_with_todays_message(text: str, key: str) -> None:
    assert netfence(text) == json_reads(text) == _twice(key)


_DEEP = 100_000
EDGES = [
    # floats: correctly rounded, as float() rounds them; beyond the largest double json says inf
    "0.1", "1e308", "5e-324", "2e-324", "2.4703282292062328e-324", "1e-400", "-1e-400",
    "1e400", "-1e400", "1.7976931348623159e308", "-0.0", "-0", "0e0", "0E+1", "1E2", "1.0",
    "0.30000000000000004", "9007199254740993", "9007199254740993.0", "1.2345678901234567e-300",
    "3.141592653589793238462643383279502884197", "1" * 800 + ".5", "0." + "0" * 400 + "1",
    "1." + "9" * 700, "[1e16, 1.5e+20, 12345678901234567.0]",
    # integers: orjson reads those beyond 64 bits as floats
    "18446744073709551615", "18446744073709551616", "-9223372036854775808",
    "-9223372036854775809", "123456789012345678901234567890", "1" + "0" * 400,
    "[0, 18446744073709551616]", '{"port": 100000000000000000000}',
    # what json reads and orjson refuses
    "NaN", "Infinity", "-Infinity", "[NaN, 1]", '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"',
    '"\ud800"', '{"\udfff": 1}',
    # strings
    '"\\ud83d\\ude00"', '"\U0001f600"', '"\\/\\b\\f\\n\\r\\t\\"\\\\"', '"\\u0000"', '"\x7f"',
    '"\x00"', '"\x1f"', '"\t"', '"\n"', '"\\x"', '"\\u00"', '"\\U0041"', '"a+b"', '"\\u003a"',
    # whitespace and framing
    "\ufeff{}", "{}\ufeff", "", " ", "\n", "[\f]", "[\v1]", "[\u00a01]", "[1\u2028]", "\f1",
    "1\f", " \t\n\r[ \t\n\r1 \t\n\r] \t\n\r", "1 2", "[1]]", '{"a": 1}x', "[1,]", '{"a": 1,}',
    "[1, 2", '"abc', "{1: 2}", "{'a': 1}", '{"a" 1}', "[01]", "[1.]", "[.5]", "[+1]", "[1.e5]",
    "[1e]", "[-]", "[--1]", "True", "nul", "null", "true", "false", '"top"', "42",
    # nesting: orjson writes back no more than 254 levels
    "[" * 254 + "]" * 254, "[" * 255 + "]" * 255, '{"a":' * 254 + "1" + "}" * 254,
    "[" * 1024 + "]" * 1024, "[" * _DEEP + "]" * _DEEP, '{"a":' * _DEEP,
]  # fmt: skip


@pytest.mark.parametrize("text", EDGES, ids=lambda t: repr(t)[:40])
def test_edge_case_reads_as_json_reads_it(text: str) -> None:
    assert netfence(text) == json_reads(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18446744073709551616", 18446744073709551616),
        ("-9223372036854775809", -9223372036854775809),
        ('{"port": [1, 100000000000000000000]}', {"port": [1, 100000000000000000000]}),
        ("1e400", math.inf),
        ("NaN", math.nan),
        ('"\\ud800"', "\ud800"),
    ],
)
def test_what_orjson_reads_otherwise_is_read_by_json(text: str, value: Any) -> None:
    assert not fast(text)
    assert typed(parse_json(text, "f.json")) == typed(value)


@pytest.mark.parametrize(
    ("text", "is_fast"),
    [
        ('{"purpose": "C++ builds", "at": "2026-12-01T10:00:00+00:00"}', True),
        ('{"n": 1e15, "m": -12345678901234567}', True),
        ('{"note": "1e+16 is a float"}', False),  # 'e+' in a string: json decides
        ('{"n": 1e16}', False),
    ],
)
def test_a_plus_sign_sends_the_text_to_json_only_after_an_e(text: str, is_fast: bool) -> None:
    assert fast(text) is is_fast
    assert netfence(text) == json_reads(text)


def test_orjson_reads_the_artifacts_netfence_writes() -> None:
    """The artifacts of every example stack take the fast path and read as json reads them."""
    stacks = sorted(GOLDEN.glob("*.cdk.tf.json"))
    assert stacks
    for path in stacks:
        text = path.read_text(encoding="utf-8")
        assert fast(text), path
        assert netfence(text) == json_reads(text)


def test_refusals_name_the_file_and_what_was_expected() -> None:
    with pytest.raises(ArtifactError) as err:
        parse_json("[1, 2", "s/cdk.tf.json", expected="expected a stack; this is")
    assert str(err.value) == (
        "s/cdk.tf.json: expected a stack; this is not valid JSON: Expecting ',' delimiter: "
        "line 1 column 6 (char 5)"
    )
    with pytest.raises(ArtifactError) as err:
        parse_json("[" * _DEEP, "s/cdk.tf.json", expected="expected a stack; this is")
    assert (
        str(err.value)
        == "s/cdk.tf.json: expected a stack; this is not valid JSON: nested too deeply"
    )


# Every character in the places a JSON reader treats differently.
_PLACES = ["{c}", "{c}1", "1{c}", "[1{c}]", "[{c}1,2]", '"{c}"', '"\\{c}"', '{{"a"{c}:1}}',
           '{{"a":{c}1}}', '{{"{c}":1}}', "[1{c}5]", "[1e{c}5]", '["\\u00{c}0"]', '"\\ud83d{c}"',
           "t{c}ue", "{{{c}}}"]  # fmt: skip
_CHARACTERS = [chr(i) for i in range(0x80)] + [
    "\x85", "\xa0", "\u1680", "\u2000", "\u2028", "\u2029", "\u3000", "\ufeff", "\ufffe",
    "\ud800", "\udfff", "\U0001f600", "\U0010ffff",
]  # fmt: skip


def test_each_character_anywhere_reads_as_json_reads_it() -> None:
    for c in _CHARACTERS:
        for place in _PLACES:
            text = place.format(c=c)
            assert netfence(text) == json_reads(text), text


def _doubles(rnd: random.Random, count: int) -> list[float]:
    out: list[float] = []
    while len(out) < count:
        x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            out.append(x)
    return out


def test_floats_are_rounded_as_float_rounds_them() -> None:
    """Shortest, 17-digit and long spellings of random doubles, and the exact halfway
    points between neighbours (hundreds of digits) and the decimals just either side."""
    rnd = random.Random(7)
    texts = []
    for x in _doubles(rnd, 2000):
        texts += [repr(x), f"{x:.17g}", f"{x:.25e}"]
    context = decimal.Context(prec=800)
    for x in _doubles(rnd, 300):
        x = abs(x) or 5e-324
        up = math.nextafter(x, math.inf)
        if math.isfinite(up):
            middle = context.divide(context.add(decimal.Decimal(x), decimal.Decimal(up)), 2)
            for d in (middle, context.next_plus(middle), context.next_minus(middle)):
                texts.append(format(d, "e"))
    # orjson writes floats from 1e16 up with a '+', which json then reads: the rest is orjson's
    mine = "[" + ", ".join(t for t in texts if "+" not in t) + "]"
    assert fast(mine)
    assert netfence(mine) == json_reads(mine)
    assert len(mine) > 50_000
