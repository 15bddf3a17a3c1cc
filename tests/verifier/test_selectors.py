"""Label selectors, one pod at a time and through the bitset index."""

from __future__ import annotations

import pytest

from constructs_lib.loaders.network_policy import LabelRequirement, LabelSelector
from constructs_lib.verifier.selectors import LabelIndex, matches

PODS = [{"app": "api", "tier": "web"}, {"app": "db"}, {}]


def expr(key: str, op: str, *values: str) -> LabelSelector:
    return LabelSelector(match_expressions=(LabelRequirement(key, op, values),))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (LabelSelector(), [0, 1, 2]),
        (LabelSelector(match_labels=(("app", "api"),)), [0]),
        (expr("app", "In", "api", "db"), [0, 1]),
        (expr("app", "NotIn", "api"), [1, 2]),  # no key at all also matches NotIn
        (expr("tier", "Exists"), [0]),
        (expr("tier", "DoesNotExist"), [1, 2]),
        (
            LabelSelector(
                match_labels=(("app", "api"),),
                match_expressions=(LabelRequirement("tier", "NotIn", ("web",)),),
            ),
            [],
        ),
    ],
)
def test_selector_matches_the_same_pods_one_by_one_and_by_index(
    selector: LabelSelector, expected: list[int]
) -> None:
    assert [i for i, labels in enumerate(PODS) if matches(selector, labels)] == expected
    bits = LabelIndex(PODS).select(selector)
    assert [i for i in range(len(PODS)) if bits >> i & 1] == expected
