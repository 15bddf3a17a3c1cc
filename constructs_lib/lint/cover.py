"""Does one selector, peer or rule cover another, for every possible set of labels?

Lint has no pods to try (the inventory is optional), so it decides coverage
from the selectors alone. The answer is sound in one direction: True means
covered for every labelling; False may mean "could not tell", which only
ever loses a finding, never invents one.
"""

from __future__ import annotations

from functools import lru_cache

from constructs_lib.loaders.inventory import NAME_LABEL
from constructs_lib.loaders.network_policy import (
    LabelRequirement,
    LabelSelector,
    Peer,
    PolicyRule,
)
from constructs_lib.verifier.engine import rule_connections
from constructs_lib.verifier.ipset import IPSet

EVERYTHING = LabelSelector()


@lru_cache(maxsize=8192)
def implies(a: LabelSelector, b: LabelSelector) -> bool:
    """Every label set that ``a`` matches is matched by ``b``."""
    labels = dict(a.match_labels)
    for key, value in b.match_labels:
        if labels.get(key) != value and not any(
            r.key == key and r.operator == "In" and r.values == (value,)
            for r in a.match_expressions
        ):
            return False
    return all(_requires(a, labels, req) for req in b.match_expressions)


def _requires(a: LabelSelector, labels: dict[str, str], req: LabelRequirement) -> bool:
    """``a`` (whose matchLabels are ``labels``) guarantees ``req``."""
    key, wanted = req.key, set(req.values)
    mine = [r for r in a.match_expressions if r.key == key]
    if req.operator == "Exists":
        return key in labels or any(r.operator in ("In", "Exists") for r in mine)
    if req.operator == "DoesNotExist":
        return key not in labels and any(r.operator == "DoesNotExist" for r in mine)
    if req.operator == "In":
        if key in labels:
            return labels[key] in wanted
        return any(r.operator == "In" and set(r.values) <= wanted for r in mine)
    # NotIn
    if key in labels:
        return labels[key] not in wanted
    return any(
        (r.operator == "In" and not set(r.values) & wanted)
        or (r.operator == "NotIn" and set(r.values) >= wanted)
        or r.operator == "DoesNotExist"
        for r in mine
    )


def own_namespace(namespace: str) -> LabelSelector:
    return LabelSelector(((NAME_LABEL, namespace),))


def peer_covers(wide: Peer, narrow: Peer, namespace: str) -> bool:
    """Every pod or address ``narrow`` matches, ``wide`` matches too (policy in ``namespace``)."""
    if wide.ip_block is not None:
        if narrow.ip_block is None:
            return False
        return ip_set(wide).covers(ip_set(narrow))
    if narrow.ip_block is not None:
        return False
    narrow_scope = narrow.namespace_selector or own_namespace(namespace)
    wide_scope = wide.namespace_selector or own_namespace(namespace)
    if not implies(narrow_scope, wide_scope):
        return False
    return implies(narrow.pod_selector or EVERYTHING, wide.pod_selector or EVERYTHING)


def rule_covers(wide: PolicyRule, narrow: PolicyRule, namespace: str) -> bool:
    """Every connection ``narrow`` allows, ``wide`` allows too."""
    if not rule_connections(narrow).issubset(rule_connections(wide)):
        return False
    if not wide.peers:
        return True
    if not narrow.peers:
        return False
    return all(any(peer_covers(w, n, namespace) for w in wide.peers) for n in narrow.peers)


def ip_set(peer: Peer) -> IPSet:
    assert peer.ip_block is not None
    return _block(peer.ip_block.cidr, peer.ip_block.except_)


@lru_cache(maxsize=8192)
def _block(cidr: str, excepts: tuple[str, ...]) -> IPSet:
    return IPSet.block(cidr, excepts)
