"""The one-pass YAML reader reads exactly what PyYAML's safe loader reads.

``parse_yaml_documents`` builds values from libyaml's events itself (issue 14:
the composer and constructor were most of the time of every YAML input). The
reference is PyYAML's own reading through the strict loader (``yaml_loader()``:
CSafeLoader with the duplicate-key check): same values, same types (True is
not 1), same documents, and the same message for what either refuses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import parse_yaml_documents, yaml_loader
from constructs_lib.loaders._read import _build_documents, _YamlDuplicate


def typed(value: Any) -> Any:
    """``value`` with every scalar's exact type, so 1 != True != 1.0 and "1" != 1."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    if isinstance(value, tuple | set):
        return (type(value).__name__, sorted(map(repr, value)))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def pyyaml(text: str) -> Any:
    """PyYAML's reading, or its refusal as netfence words it."""
    try:
        return ("ok", typed(list(yaml.load_all(text, Loader=yaml_loader()))))
    except yaml.YAMLError as exc:
        return ("refused", f"f.yaml: not valid YAML: {exc}")
    except _YamlDuplicate as dup:  # the strict loader's own check
        return (
            "refused",
            f"f.yaml: key {dup.key!r} on line {dup.line} appears twice in one mapping (first "
            f"on line {dup.first}); readers keep only one of them, so write it once",
        )


def netfence(text: str) -> Any:
    try:
        return ("ok", typed(parse_yaml_documents(text, "f.yaml")))
    except ArtifactError as exc:
        return ("refused", str(exc))


# What one pass builds itself: every scalar kind of YAML 1.1, as PyYAML resolves it.
BUILT = [
    "",
    "---\n---\n",
    "--- 3\n--- null\n---\n- 2\n",
    "a: 1\n...\n---\nb: 2\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: NO\nh: True\ni: FALSE\nj: Yes\n",
    "a: 017\nb: 0o17\nc: 0x1f\nd: 1_000\ne: 1:30\nf: 0b101\ng: -0\nh: +12\ni: 0\n",
    "a: 1.5\nb: .inf\nc: -.Inf\nd: .nan\ne: 1e3\nf: 1.0e+3\ng: 190:20:30.15\nh: 0.\ni: -.5\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\nc: 2001-12-14 21:59:43.10 -5\nd: 12:30:00\n",
    "a: ~\nb: null\nc: Null\nd:\ne: ''\nf: NULL\n",
    "a: !!str 1\nb: !!int '3'\nc: !!float '1'\nd: !!binary aGVsbG8=\ne: ! 12\nf: !!bool 'yes'\n",
    "a: !!null ''\nb: !!timestamp 2001-01-01\nc: !!str yes\n",
    'a: \'0x10\'\nb: "yes"\nc: |\n  text\n  more\nd: >\n  folded\n  line\ne: "\\t\\u00e9"\n',
    "=: 1\n'=': 2\n",
    "a: &x 1\nb: &y [1, 2]\n",
    "- a\n- [b, {c: d}]\n- {}\n- []\n- - - 1\n",
    "x: !!map {a: 1}\ny: !!seq [1]\nz: ! {b: 2}\n",
    "1: a\n'1': b\n1.0: c\ntrue: d\n~: e\n",
    'port: 8080\nname: "8080"\nkey: app.kubernetes.io/name\nempty: {}\nlist: []\n',
    "? explicit key\n: value\nplain: multi\n  line\n",
]

# What only PyYAML's composer and constructor build: one pass hands them the text.
DELEGATED = [
    "<<: {a: 1}\nb: 2\n",
    "a: 1\n<<: [{a: 2, b: 3}, {b: 4, c: 5}]\n",
    "b: 2\n<<: {b: 1, c: 3}\n",
    "a: !!set {x, y}\n",
    "a: !!omap [{x: 1}, {y: 2}]\n",
    "a: !!pairs [{x: 1}, {x: 2}]\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "x: !!str [1]\n",
    "x: !custom {a: 1}\n",
    "<<: 1\n",
    "<<: {a: 1}\n<<: {b: 2}\n",
]

# Refused by either reading, with the same message.
REFUSED = [
    "a: 1\na: 2\n",
    "a: 1\n'a': 2\n",
    "{a: 1, a: 2}",
    "k: 1\n? k\n: 2\n",
    "- {a: 1, b: {c: 1, c: 2}}\n",
    "a: =\n",
    "a: !foo x\n",
    "a: <<\n",
    "a: !!python/object:os.system x\n",
    "a: [1, 2\n",
    "a: b: c\n",
    ": x\n",
    "a: !!binary '@@@'\n",
]


@pytest.mark.parametrize("text", BUILT + DELEGATED + REFUSED)
def test_reads_as_pyyaml_reads(text: str) -> None:
    assert netfence(text) == pyyaml(text)


@pytest.mark.parametrize("text", BUILT)
def test_plain_yaml_is_built_in_one_pass(text: str) -> None:
    assert _build_documents(text, "f.yaml")[0] is not None


@pytest.mark.parametrize("text", DELEGATED + REFUSED[:9])
def test_merge_keys_collection_keys_tags_and_refusals_go_to_pyyaml(text: str) -> None:
    assert _build_documents(text, "f.yaml")[0] is None


def test_merge_key_reads_as_pyyaml_merges() -> None:
    assert parse_yaml_documents("a: 1\n<<: [{a: 2, b: 3}, {b: 4, c: 5}]\n", "f") == [
        {"a": 1, "b": 3, "c": 5}
    ]


def test_yaml_1_1_scalars_keep_their_types() -> None:
    (doc,) = parse_yaml_documents("a: yes\nb: 017\nc: 1:30\nd: 2002-12-14\ne: '1'\nf: 0o17\n", "f")
    assert doc == {"a": True, "b": 15, "c": 90, "d": dt.date(2002, 12, 14), "e": "1", "f": "0o17"}
    assert type(doc["a"]) is bool


def test_duplicate_key_is_refused_with_both_lines() -> None:
    with pytest.raises(ArtifactError) as err:
        parse_yaml_documents("- a: 1\n  b:\n    c: 1\n    d: 2\n    c: 3\n", "f.yaml")
    assert str(err.value) == (
        "f.yaml: key 'c' on line 5 appears twice in one mapping (first on line 3); "
        "readers keep only one of them, so write it once"
    )


def test_unknown_tag_is_refused_naming_it_and_its_line() -> None:
    with pytest.raises(ArtifactError) as err:
        parse_yaml_documents("a: 1\nb: !foo x\n", "f.yaml")
    assert str(err.value) == (
        "f.yaml: not valid YAML: could not determine a constructor for the tag '!foo'\n"
        '  in "<unicode string>", line 2, column 4'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: !!int x\n", "'x' on line 2 cannot be read as !!int"),
        ("- !!float one\n", "'one' on line 1 cannot be read as !!float"),
        ("a: !!bool maybe\n", "'maybe' on line 1 cannot be read as !!bool"),
        ("a: !!timestamp soon\n", "'soon' on line 1 cannot be read as !!timestamp"),
    ],
)
def test_a_tagged_value_pyyaml_cannot_construct_is_refused_with_its_line(
    text: str, message: str
) -> None:
    # PyYAML raises ValueError, KeyError... here, without a line: this was exit 3.
    with pytest.raises(ArtifactError) as err:
        parse_yaml_documents(text, "f.yaml")
    assert str(err.value) == (
        f"f.yaml: not valid YAML: {message}: write a valid value or drop the tag"
    )


def test_an_alias_later_in_the_file_is_refused_before_an_earlier_duplicate() -> None:
    # As before: aliases and nesting are checked over the whole stream first.
    with pytest.raises(ArtifactError) as err:
        parse_yaml_documents("a: 1\na: 2\n---\nb: &x 1\nc: *x\n", "f.yaml")
    assert str(err.value) == (
        "f.yaml: YAML alias *x on line 5 is not supported (aliases can expand without "
        "bound): write the value out"
    )


def test_deep_nesting_after_a_merge_key_is_still_refused() -> None:
    text = "<<: {a: 1}\n---\n" + "[" * 101 + "]" * 101 + "\n"
    with pytest.raises(ArtifactError) as err:
        parse_yaml_documents(text, "f.yaml")
    assert str(err.value) == "f.yaml: not valid YAML: nested more than 100 deep (line 3)"


# Random documents: plain scalars PyYAML resolves in every way, in block and flow style.
_SCALARS = st.sampled_from(
    [
        "yes", "No", "on", "OFF", "y", "n", "true", "~", "null", "", "0", "017", "0o17",
        "0x1F", "0b11", "1_000", "-1", "+1", "1:30", "1.5", ".inf", "-.inf", ".NaN", "1e3",
        "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "a", "a b", "TCP", "8080",
        "app.kubernetes.io/name", "10.0.0.0/8", "'quoted'", '"dq"', "x: y", "- z", "#c",
    ]
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_SCALARS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(_VALUES, min_size=1, max_size=3), st.booleans())
def test_random_documents_read_as_pyyaml_reads(documents: list[Any], flow: bool) -> None:
    # PyYAML's dumper writes each scalar plain where that reads back the same, else quoted.
    text = "---\n".join(yaml.dump(d, default_flow_style=flow) for d in documents)
    assert netfence(text) == pyyaml(text)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(st.tuples(_SCALARS, _SCALARS), min_size=1, max_size=6))
def test_random_raw_mappings_read_as_pyyaml_reads(pairs: list[tuple[str, str]]) -> None:
    # Unquoted as written: the resolver decides each type, duplicates must be refused alike.
    text = "".join(f"{k}: {v}\n" for k, v in pairs)
    assert netfence(text) == pyyaml(text)
