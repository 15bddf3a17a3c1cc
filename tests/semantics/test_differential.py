"""Differential test: netfence's reachability against network-config-analyzer 2.1.0.

Random clusters and policy sets come from a seeded generator; both engines
judge every (source, destination, declared port) that `reach` lists, and
every verdict must agree. nca 2.1.0 departs from Kubernetes in five documented
places (DESIGN.md, "Facts for differential testing"); each is handled exactly
once, here or in nca_oracle.to_nca_policy, with the line that settles it:

1. ``egress: []`` without policyTypes. nca reads it as egress isolation.
   API reference, NetworkPolicySpec.policyTypes: "If this field is not
   specified, it will default based on the existence of Egress rules; policies
   that contain an Egress section are assumed to affect Egress", and
   SetDefaults_NetworkPolicy (pkg/apis/networking/v1/defaults.go) adds Egress
   only when ``len(spec.Egress) != 0``. NORMALISED: nca gets the policy without
   the empty list (the same policy for Kubernetes); netfence gets it as
   generated, so its defaulting is still exercised.
2. ipBlock never matches pod IPs in nca. The concept page only advises that
   ipBlock CIDRs "should be cluster-external IPs, since Pod IPs are ephemeral";
   the upstream e2e test "should allow egress access to server in CIDR block"
   settles the semantics: a pod's /32 matches. EXCLUDED: generated CIDRs never
   contain a pod IP (pods live in 10.0.0.0/8; every CIDR is external space or
   0.0.0.0/0 except 10.0.0.0/8).
3. namespaceSelector + a podSelector with Exists/DoesNotExist: nca keeps only
   the policy's own namespace. API reference, NetworkPolicyPeer.podSelector:
   "If namespaceSelector is also set, then the NetworkPolicyPeer as a whole
   selects the Pods matching podSelector in the Namespaces selected by
   NamespaceSelector." EXCLUDED: a peer that has both selectors gets a
   podSelector with matchLabels/In/NotIn only.
4. nca refuses ``ingress``/``egress`` for a direction missing from an explicit
   policyTypes, and refuses ``[Egress, Ingress]``. policyTypes is the "List of
   rule types that the NetworkPolicy relates to"; API validation
   (ValidateNetworkPolicySpec) only checks that each entry is Ingress or Egress
   and that there are at most two, so both forms are accepted, order carries no
   meaning, and rules of an unlisted type relate to nothing. NORMALISED:
   to_nca_policy drops the ignored rules and writes Ingress first.
5. A pod's traffic to itself. Concept page, the entities a pod can talk to:
   "Other pods that are allowed (exception: a pod cannot block access to
   itself)". nca evaluates such pairs and hides them; `reach` leaves them out.
   EXCLUDED: the comparison walks `reach`'s own entries, which never include a
   workload with itself.

A sixth departure, found in nca's source (PeerContainer.get_namespace_pods_
with_label reads a namespace's missing key as the empty value): with
``values: [""]`` a namespace In/NotIn requirement treats "no such label" as
"label is empty". Labels concept page, set-based requirements: ``partition
notin (production)`` selects every resource whose partition is another value
"and all resources without a label with the key partition", while ``in``
selects only resources that carry the key. EXCLUDED: generated label values
are never empty; the guard below pins it.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from nca_oracle import NcaCase, NcaMap, parse_connections, run_nca, to_nca_policy

from constructs_lib.verifier import reachability

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nca") is None,
    reason="network-config-analyzer is not installed (pip install -e '.[dev]')",
)

SEEDS = range(60)

NS_LABELS = {"team": ("a", "b"), "env": ("prod", "dev")}
POD_LABELS = {"app": ("web", "db", "api"), "tier": ("front", "back")}
# (name, protocol, numbers it may be bound to): "web" differs across pods on purpose.
NAMED_PORTS = (("web", "TCP", (80, 8080)), ("dns", "UDP", (53,)), ("sig", "SCTP", (9000,)),
               ("metrics", "TCP", (9090,)))
NUMBERS = (53, 80, 443, 8080, 8443, 9000, 9090)
RANGES = ((50, 60), (80, 443), (8000, 9100))
# Every CIDR leaves 10.0.0.0/8 (the pods) out: departure 2.
CIDRS = (
    ("203.0.113.0/24",),
    ("203.0.113.0/24", "203.0.113.0/25"),
    ("198.51.100.0/24",),
    ("192.0.2.1/32",),
    ("0.0.0.0/0", "10.0.0.0/8"),
    ("0.0.0.0/0", "10.0.0.0/8", "198.51.100.0/24"),
)
EXTERNALS = (
    {"name": "web", "ip": "203.0.113.7", "ports": [{"port": 443, "protocol": "TCP"}]},
    {"name": "edge", "ip": "203.0.113.200",
     "ports": [{"port": 443, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]},
    {"name": "partner", "ip": "198.51.100.10", "ports": [{"port": 8443, "protocol": "TCP"}]},
    {"name": "dns", "ip": "192.0.2.1", "ports": [{"port": 53, "protocol": "UDP"}]},
)


class Generator:
    """One random cluster and policy set per seed (namespaces are prefixed by the case)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.prefix = f"c{seed}"

    def labels(self, vocabulary: dict[str, tuple[str, ...]]) -> dict[str, str]:
        return {k: self.rng.choice(v) for k, v in vocabulary.items() if self.rng.random() < 0.7}

    def inventory(self) -> dict[str, Any]:
        rng = self.rng
        namespaces = {
            f"{self.prefix}-n{i}": {"labels": self.labels(NS_LABELS)}
            for i in range(rng.randint(2, 3))
        }
        workloads = []
        for n, ns in enumerate(namespaces):
            for i in range(rng.randint(1, 3)):
                ports = []
                for name, protocol, numbers in rng.sample(NAMED_PORTS, rng.randint(1, 3)):
                    ports.append({"port": rng.choice(numbers), "protocol": protocol, "name": name})
                workloads.append(
                    {
                        "namespace": ns,
                        "name": f"p{i}",
                        "labels": self.labels(POD_LABELS),
                        "ip": f"10.{n}.0.{i + 1}",
                        "ports": ports,
                    }
                )
        externals = rng.sample(EXTERNALS, rng.randint(1, 3))
        return {"namespaces": namespaces, "workloads": workloads, "external": externals}

    def selector(self, vocabulary: dict[str, tuple[str, ...]], key_ops: bool) -> dict[str, Any]:
        rng = self.rng
        shape = rng.choice(("empty", "labels", "expression", "both"))
        out: dict[str, Any] = {}
        if shape in ("labels", "both"):
            key = rng.choice(list(vocabulary))
            out["matchLabels"] = {key: rng.choice(vocabulary[key])}
        if shape in ("expression", "both"):
            key = rng.choice(list(vocabulary))
            ops = ("In", "NotIn", "Exists", "DoesNotExist") if key_ops else ("In", "NotIn")
            op = rng.choice(ops)
            requirement: dict[str, Any] = {"key": key, "operator": op}
            if op in ("In", "NotIn"):
                requirement["values"] = rng.sample(vocabulary[key], rng.randint(1, 2))
            out["matchExpressions"] = [requirement]
        return out

    def namespace_selector(self, namespaces: list[str]) -> dict[str, Any]:
        if self.rng.random() < 0.2:
            return {"matchLabels": {"kubernetes.io/metadata.name": self.rng.choice(namespaces)}}
        return self.selector(NS_LABELS, key_ops=True)

    def peer(self, namespaces: list[str]) -> dict[str, Any]:
        kind = self.rng.choice(("pods", "namespaces", "both", "ip"))
        if kind == "pods":
            return {"podSelector": self.selector(POD_LABELS, key_ops=True)}
        if kind == "namespaces":
            return {"namespaceSelector": self.namespace_selector(namespaces)}
        if kind == "both":  # departure 3: no Exists/DoesNotExist in this podSelector
            return {
                "namespaceSelector": self.namespace_selector(namespaces),
                "podSelector": self.selector(POD_LABELS, key_ops=False),
            }
        cidr, *excepted = self.rng.choice(CIDRS)
        block: dict[str, Any] = {"cidr": cidr}
        if excepted:
            block["except"] = list(excepted)
        return {"ipBlock": block}

    def port(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(("number", "number", "range", "named", "protocol"))
        protocol = rng.choice((None, "TCP", "UDP", "SCTP"))
        out: dict[str, Any] = {}
        if kind == "number":
            out["port"] = rng.choice(NUMBERS)
        elif kind == "range":
            out["port"], out["endPort"] = rng.choice(RANGES)
        elif kind == "named":
            name, own_protocol, _ = rng.choice(NAMED_PORTS)
            out["port"] = name
            protocol = own_protocol if rng.random() < 0.8 else protocol
        elif protocol is None:
            protocol = "UDP"
        if protocol is not None:
            out["protocol"] = protocol
        return out

    def rule(self, key: str, namespaces: list[str]) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {}
        peers = rng.random()
        if peers < 0.1:
            out[key] = []
        elif peers < 0.8:
            out[key] = [self.peer(namespaces) for _ in range(rng.randint(1, 2))]
        ports = rng.random()
        if ports < 0.1:
            out["ports"] = []
        elif ports < 0.7:
            out["ports"] = [self.port() for _ in range(rng.randint(1, 2))]
        return out

    def rules(self, key: str, namespaces: list[str]) -> list[dict[str, Any]] | None:
        roll = self.rng.random()
        if roll < 0.3:
            return None
        if roll < 0.45:
            return []
        return [self.rule(key, namespaces) for _ in range(self.rng.randint(1, 2))]

    def policy_selector(self, pods: list[dict[str, Any]]) -> dict[str, Any]:
        """Mostly selectors that select something, else the policy tests nothing."""
        roll = self.rng.random()
        if roll < 0.25:
            return {}
        labelled = [p["labels"] for p in pods if p["labels"]]
        if roll < 0.65 and labelled:
            pod_labels = self.rng.choice(labelled)
            key = self.rng.choice(sorted(pod_labels))
            return {"matchLabels": {key: pod_labels[key]}}
        return self.selector(POD_LABELS, key_ops=True)

    def policies(self, inventory: dict[str, Any]) -> list[dict[str, Any]]:
        rng = self.rng
        namespaces = list(inventory["namespaces"])
        out = []
        for i in range(rng.randint(2, 5)):
            namespace = rng.choice(namespaces)
            pods = [w for w in inventory["workloads"] if w["namespace"] == namespace]
            spec: dict[str, Any] = {"podSelector": self.policy_selector(pods)}
            types = rng.choice(
                (None, None, ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"])
            )
            if types is not None:
                spec["policyTypes"] = types
            for direction, key in (("ingress", "from"), ("egress", "to")):
                rules = self.rules(key, namespaces)
                if rules is not None:
                    spec[direction] = rules
            out.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": f"np{i}", "namespace": namespace},
                    "spec": spec,
                }
            )
        return out

    def case(self) -> NcaCase:
        inventory = self.inventory()
        policies = self.policies(inventory)
        return NcaCase(self.prefix, policies, inventory)


CASES = [Generator(seed).case() for seed in SEEDS]


def _guard(name: str, policy_spec: dict[str, Any], peer_namespace: str) -> NcaCase:
    """Two pods, a (10.9.0.1, tier x) and b; one policy on b or a; given to nca RAW."""
    namespaces = {f"{name}-n0": {"labels": {}}, f"{name}-n1": {"labels": {}}}
    workloads = [
        {"namespace": f"{name}-{peer_namespace}", "name": "a", "labels": {"pod": "a", "tier": "x"},
         "ip": "10.9.0.1", "ports": [{"port": 80, "protocol": "TCP", "name": "web"}]},
        {"namespace": f"{name}-n0", "name": "b", "labels": {"pod": "b"}, "ip": "10.9.0.2",
         "ports": [{"port": 80, "protocol": "TCP", "name": "web"}]},
    ]
    manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "guard", "namespace": f"{name}-n0"},
        "spec": policy_spec,
    }
    inventory = {"namespaces": namespaces, "workloads": workloads, "external": []}
    return NcaCase(name, [manifest], inventory, normalise=False)


# Each departure that nca 2.1.0 accepts as input, shown on a minimal case where
# Kubernetes (and netfence) allow a -> b and nca denies it. They prove that the
# harness sees a disagreement when there is one, and that the exclusions above
# are still needed for this analyzer version.
GUARDS = [
    pytest.param(
        _guard("g1", {"podSelector": {"matchLabels": {"pod": "a"}}, "egress": []}, "n0"),
        {("g1-n0/a", "g1-n0/b"): (True, False)},
        id="departure_1_empty_egress_list",
    ),
    pytest.param(
        _guard(
            "g2",
            {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"ipBlock": {"cidr": "10.9.0.1/32"}}]}]},
            "n0",
        ),
        {("g2-n0/a", "g2-n0/b"): (True, False)},
        id="departure_2_ip_block_and_pod_ip",
    ),
    pytest.param(
        _guard(
            "g3",
            {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Ingress"],
             "ingress": [{"from": [{
                 "namespaceSelector": {},
                 "podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
             }]}]},
            "n1",
        ),
        {("g3-n1/a", "g3-n0/b"): (True, False)},
        id="departure_3_exists_with_namespace_selector",
    ),
    pytest.param(
        _guard(
            "g4",
            {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                 {"key": "team", "operator": "NotIn", "values": [""]}]}}]}]},
            "n1",
        ),
        # Both namespaces lack `team`, so NotIn [""] selects both: a -> b is allowed.
        {("g4-n1/a", "g4-n0/b"): (True, False)},
        id="departure_6_missing_namespace_label_read_as_empty",
    ),
]


@pytest.fixture(scope="module")
def nca_maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NcaMap]:
    everything = CASES + [guard.values[0] for guard in GUARDS]
    outputs = run_nca(everything, tmp_path_factory.mktemp("nca"))
    return {case.name: NcaMap.parse(outputs[case.name], case.inventory) for case in everything}


def verdict_pairs(case: NcaCase, nca: NcaMap) -> Iterator[tuple[dict[str, Any], bool]]:
    for entry in reachability(case.policies, case.inventory).to_json()["connections"]:
        theirs = nca.allowed(entry["from"], entry["to"], entry["port"], entry["protocol"])
        yield entry, theirs


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_netfence_agrees_with_network_config_analyzer(
    case: NcaCase, nca_maps: dict[str, NcaMap]
) -> None:
    disagreements = [
        f"{e['from']} -> {e['to']}:{e['port']}/{e['protocol']}: "
        f"netfence {e['allowed']}, nca {theirs}"
        for e, theirs in verdict_pairs(case, nca_maps[case.name])
        if e["allowed"] is not theirs
    ]
    assert not disagreements, (
        "\n".join(disagreements)
        + "\n--- policies ---\n"
        + yaml.safe_dump_all(case.policies)
        + "--- inventory ---\n"
        + yaml.safe_dump(case.inventory)
    )


@pytest.mark.slow
def test_generated_cases_reach_both_verdicts_and_every_feature(
    nca_maps: dict[str, NcaMap],
) -> None:
    """Guards the generator: a corpus that is all-allow or all-deny proves nothing."""
    verdicts = [theirs for case in CASES for _, theirs in verdict_pairs(case, nca_maps[case.name])]
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8
    text = yaml.safe_dump([case.policies for case in CASES])
    for feature in ("endPort", "ipBlock", "except", "NotIn", "DoesNotExist", "Exists",
                    "namespaceSelector: {}", "podSelector: {}", "kubernetes.io/metadata.name",
                    "SCTP", "port: web", "egress: []"):
        assert feature in text, feature
    types = [p["spec"].get("policyTypes") for case in CASES for p in case.policies]
    assert ["Egress", "Ingress"] in types
    assert None in types


@pytest.mark.parametrize(
    ("text", "allowed", "denied"),
    [
        ("All connections", [("SCTP", 1)], []),
        ("{protocols:UDP,dst_ports:81}", [("UDP", 81)], [("TCP", 81), ("UDP", 82)]),
        (
            "{protocols:TCP, UDP,dst_ports:53,8000-8100},{protocols:SCTP}",
            [("TCP", 53), ("UDP", 8100), ("SCTP", 1)],
            [("TCP", 54), ("UDP", 7999)],
        ),
        ("All but {protocols:TCP,dst_ports:80}", [("TCP", 81), ("UDP", 80)], [("TCP", 80)]),
        ("{protocols:all but TCP}", [("UDP", 5)], [("TCP", 5)]),
        ("{dst_ports:443}", [("TCP", 443), ("UDP", 443)], [("TCP", 80)]),
    ],
)
def test_nca_connection_text_is_read_exactly(
    text: str, allowed: list[tuple[str, int]], denied: list[tuple[str, int]]
) -> None:
    predicate = parse_connections(text)
    assert [predicate(p, n) for p, n in allowed] == [True] * len(allowed)
    assert [predicate(p, n) for p, n in denied] == [False] * len(denied)


def test_to_nca_policy_keeps_kubernetes_meaning() -> None:
    reversed_types = {
        "metadata": {"name": "p", "namespace": "x"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}], "egress": []},
    }
    empty_egress = {"metadata": {}, "spec": {"podSelector": {}, "egress": []}}
    assert to_nca_policy(reversed_types)["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"], "egress": [],
    }
    assert to_nca_policy(empty_egress)["spec"] == {"podSelector": {}}


@pytest.mark.slow
@pytest.mark.parametrize(("case", "expected"), GUARDS)
def test_harness_reports_a_known_departure(
    case: NcaCase,
    expected: dict[tuple[str, str], tuple[bool, bool]],
    nca_maps: dict[str, NcaMap],
) -> None:
    found = {
        (e["from"], e["to"]): (e["allowed"], theirs)
        for e, theirs in verdict_pairs(case, nca_maps[case.name])
        if e["allowed"] is not theirs
    }
    assert found == expected
