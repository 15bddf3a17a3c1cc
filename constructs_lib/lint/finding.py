"""What lint reports: the rule table (stable ids, default severity, help) and one Finding type.

Rule ids are public: SARIF keys its results on them, CI suppressions name
them, and they never change meaning. A new check takes a new id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """Ordered so that ``--fail-on`` is a comparison."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    help: str


RULES: tuple[Rule, ...] = (
    Rule(
        "NF101",
        "empty-rule",
        Severity.WARNING,
        "A rule with no peers and no ports allows everything in its direction.",
        "An ingress rule `{}` admits every source (every pod of every namespace and every "
        "address) on every port; an egress rule `{}` lets the selected pods reach anything. "
        "Name the peers (from/to) and the ports, or delete the policy if it is meant to be open.",
    ),
    Rule(
        "NF102",
        "all-namespaces-peer",
        Severity.WARNING,
        "An empty namespaceSelector selects every pod of every namespace.",
        "`namespaceSelector: {}` without a podSelector (or with an empty one) matches every "
        "pod in the cluster, including namespaces created later. Select the namespaces by "
        "label (`kubernetes.io/metadata.name`) or add a podSelector.",
    ),
    Rule(
        "NF103",
        "all-pods-peer",
        Severity.INFO,
        "An empty podSelector peer selects every pod of the policy's namespace.",
        "`podSelector: {}` alone matches every pod of the policy's own namespace, also pods "
        "added later. Fine for an 'allow same namespace' policy; otherwise select the pods "
        "by label.",
    ),
    Rule(
        "NF104",
        "ingress-from-internet",
        Severity.WARNING,
        "An ingress ipBlock covering the internet also admits the cluster's own pods.",
        "Most CNIs match ipBlock against pod IPs too, so an ingress ipBlock of 0.0.0.0/0 or "
        "::/0 (or any set covering the internet) admits every pod of the cluster. List the "
        "pod CIDRs under `except`, or narrow the cidr to the real clients.",
    ),
    Rule(
        "NF105",
        "egress-without-dns",
        Severity.WARNING,
        "Pods isolated for egress have no DNS allowance.",
        "Once a policy isolates egress, DNS lookups are denied too unless some policy "
        "selecting the same pods allows UDP (and TCP) 53, usually to kube-dns in kube-system. "
        "Add an egress rule to kube-dns on 53/UDP and 53/TCP.",
    ),
    Rule(
        "NF106",
        "policy-types-omitted",
        Severity.WARNING,
        "policyTypes is omitted while egress rules exist: the policy isolates ingress too.",
        "Without policyTypes the API server sets Ingress always and Egress when there are "
        "egress rules, so an egress-only policy also denies ingress that no rule allows. "
        "Write policyTypes explicitly.",
    ),
    Rule(
        "NF107",
        "rules-ignored",
        Severity.WARNING,
        "Rules for a direction that policyTypes leaves out are ignored by Kubernetes.",
        "When policyTypes is given, only the listed directions are enforced; ingress rules "
        "without Ingress (or egress rules without Egress) have no effect. Add the direction "
        "to policyTypes or delete the rules.",
    ),
    Rule(
        "NF108",
        "non-canonical-cidr",
        Severity.ERROR,
        "A CIDR with host bits set: network plugins read it differently.",
        "`10.0.0.1/24` is not a network address; some plugins mask it to 10.0.0.0/24, others "
        "read a single address or refuse it, and netfence refuses it. Write the network "
        "address.",
    ),
    Rule(
        "NF109",
        "except-outside-cidr",
        Severity.ERROR,
        "An ipBlock except entry lies outside its cidr.",
        "The API server refuses an except that is not inside the ipBlock's cidr. Move the "
        "range into the right ipBlock or delete it.",
    ),
    Rule(
        "NF110",
        "invalid-end-port",
        Severity.ERROR,
        "endPort with a named port, or endPort below port.",
        "The API server refuses endPort unless port is a number no greater than endPort. "
        "Give a numeric port range (port <= endPort) or drop endPort.",
    ),
    Rule(
        "NF201",
        "named-port-undeclared",
        Severity.WARNING,
        "A named port that no pod it applies to declares.",
        "A named port resolves against the destination pod's container ports; if no such "
        "pod declares the name (with that protocol) the port matches nothing. Fix the name "
        "or use the number.",
    ),
    Rule(
        "NF202",
        "selects-no-pod",
        Severity.WARNING,
        "The policy's podSelector selects no pod of the inventory.",
        "A policy that selects no pod has no effect: check the labels and the namespace "
        "against the workloads.",
    ),
    Rule(
        "NF203",
        "no-default-deny",
        Severity.WARNING,
        "A namespace with pods has no default deny.",
        "Without a policy selecting every pod (`podSelector: {}`) for a direction, new "
        "pods and pods no policy selects stay open. Add a default-deny policy with "
        "policyTypes [Ingress, Egress] and allow what is needed.",
    ),
    Rule(
        "NF204",
        "half-open-namespace",
        Severity.INFO,
        "A namespace denies by default in one direction only.",
        "The namespace has a default deny for ingress or for egress but not both: fine "
        "during a gradual rollout (ingress first), open in the other direction.",
    ),
    Rule(
        "NF205",
        "peer-matches-nothing",
        Severity.WARNING,
        "A peer that matches no pod of the inventory.",
        "The peer's selectors match no workload of the inventory (or no namespace): a "
        "label typo, or a workload the inventory does not list.",
    ),
    Rule(
        "NF301",
        "shadowed-rule",
        Severity.WARNING,
        "A rule that another rule of the same policy already allows.",
        "Every peer and port of this rule is also allowed by another rule of the same "
        "policy and direction, so it adds nothing; often a sign that the other rule is "
        "wider than meant. Narrow the wider rule or delete this one.",
    ),
    Rule(
        "NF302",
        "duplicate-name",
        Severity.ERROR,
        "The same namespace/name is defined twice.",
        "Kubernetes keeps one object per namespace/name: whichever is applied last wins. "
        "Rename one or merge them.",
    ),
    Rule(
        "NF303",
        "duplicate-policy",
        Severity.WARNING,
        "Two policies in one namespace with the same selector and rules.",
        "Policies are additive, so an identical copy adds nothing and drifts apart later. "
        "Delete one.",
    ),
)

RULE_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    """One finding. ``path`` is the field path inside the policy object (or inventory)."""

    rule: Rule
    severity: Severity
    file: str
    message: str
    fix: str
    path: str = ""
    document: int | None = None
    item: str | None = None
    line: int | None = None
    namespace: str | None = None
    name: str | None = None

    @property
    def policy(self) -> str | None:
        if self.name is None:
            return None
        return f"{self.namespace}/{self.name}"

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.file,
            self.document if self.document is not None else -1,
            self.item or "",
            self.line or 0,
            self.path,
            self.rule.id,
            self.message,
        )
