"""The proof compares the pairs either side opens: the same counts and the same
differences, in the same order, as comparing every ordered pair."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.brownfield.migrate import compare
from constructs_lib.verifier import reachability
from constructs_lib.verifier.reach import Reachability
from tests.verifier.test_netmap import _cases


def _every_pair(a: Reachability, b: Reachability) -> tuple[int, int, list[tuple[str, str]]]:
    """The definition: pairs, port checks and the pairs whose connections differ."""
    names = a.endpoints
    ports = {w.key: len(w.ports) for w in a.inventory.workloads}
    ports.update({e.key: len(e.ports) for e in a.inventory.external})
    pairs = checks = 0
    differ = []
    for s in names:
        for d in names:
            if s == d or (a.is_external(s) and a.is_external(d)):
                continue
            pairs += 1
            checks += ports.get(d, 0)
            want, got = a.connection_set(s, d), b.connection_set(s, d)
            if d in a.engine.pod_index:
                cls = a.engine.pod_class[a.engine.pod_index[d]]
                want, got = a.engine.resolve_for(want, cls), b.engine.resolve_for(got, cls)
            if want != got:
                differ.append((s, d))
    return pairs, checks, differ


@settings(max_examples=100, derandomize=True, deadline=None)
@given(_cases(), st.data())
def test_the_proof_finds_every_pair_that_differs(
    case: tuple[list[dict[str, Any]], dict[str, Any]], data: st.DataObject
) -> None:
    policies, inventory = case
    # the other side: the same policies with some left out (isolating less or
    # admitting less) and some appended twice under new names
    kept = [p for p in policies if data.draw(st.booleans())]
    extra = [
        {**p, "metadata": {**p["metadata"], "name": p["metadata"]["name"] + "-2"}}
        for p in policies
        if data.draw(st.booleans())
    ]
    a, b = reachability(policies, inventory), reachability(kept + extra, inventory)
    pairs, checks, diffs = compare(a, b, "x")
    want_pairs, want_checks, differ = _every_pair(a, b)
    assert (pairs - _replicas(a), checks - _replica_checks(a)) == (want_pairs, want_checks)
    pair_diffs = [(d.source, d.destination) for d in diffs if not d.destination.endswith(")")]
    assert list(dict.fromkeys(pair_diffs)) == differ


def _replicas(a: Reachability) -> int:
    return len(a.engine.pod_index)


def _replica_checks(a: Reachability) -> int:
    return sum(len(w.ports) for w in a.inventory.workloads)
