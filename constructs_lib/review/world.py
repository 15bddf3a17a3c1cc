"""The world two policy sets are compared over: pods, namespace labels, external endpoints.

Policies do not say which pods exist, so a diff is only as good as the pods
it looks at. Besides declared workloads the world holds stand-ins where an
accidental allow would show: an unlisted pod in each namespace, a pod in a
namespace nobody listed, the DNS pods, one pod per declared selection, and
one pod per selector the policies themselves use (all a plan can offer).
Namespace labels may differ per side (a change may relabel a namespace);
the pods are the same on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from constructs_lib.loaders.intent import FlowEnd, IntentRecord
from constructs_lib.loaders.inventory import NAME_LABEL, DeclaredPort, External, Inventory
from constructs_lib.loaders.network_policy import Labels, LabelSelector, NetworkPolicy
from constructs_lib.verifier.engine import Pod, iter_bits
from constructs_lib.verifier.selectors import LabelIndex

UNLISTED_NAMESPACE = "netfence-unlisted-namespace"
UNLISTED_NAMESPACE_DISPLAY = "<any other namespace>"
BEFORE, AFTER = "before", "after"
ENVIRONMENT = "environment"


@dataclass(frozen=True)
class Member:
    """One pod of the world and how reports name it."""

    pod: Pod
    display: str
    group: str  # the namespace as reports show it


@dataclass(frozen=True)
class World:
    members: tuple[Member, ...]
    before: Mapping[str, Mapping[str, str]]
    after: Mapping[str, Mapping[str, str]]
    externals: tuple[External, ...] = ()
    # Namespaces that do not exist on a side (created or deleted by the change):
    # their pods do not exist there either, so they have no connections there.
    absent: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: {BEFORE: frozenset(), AFTER: frozenset()}
    )

    @property
    def pods(self) -> list[Pod]:
        return [m.pod for m in self.members]

    def exists(self, namespace: str, side: str) -> bool:
        return namespace not in self.absent[side]

    def environment(self, namespace: str) -> str | None:
        """The namespace's environment label as the change leaves it."""
        labels = self.after.get(namespace) or self.before.get(namespace) or {}
        return labels.get(ENVIRONMENT)


def selector_labels(selector: LabelSelector | None) -> dict[str, str]:
    """Labels that satisfy ``selector``; none for an absent one."""
    return selector.satisfying_labels() if selector is not None else {}


def _labels_text(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


@dataclass
class WorldBuilder:
    """Collects members; the first definition of a pod key wins."""

    _members: dict[str, Member] = field(default_factory=dict)
    _common: dict[str, dict[str, str]] = field(default_factory=dict)
    _sides: dict[str, dict[str, dict[str, str]]] = field(
        default_factory=lambda: {BEFORE: {}, AFTER: {}}
    )
    _externals: dict[str, External] = field(default_factory=dict)
    _absent: dict[str, set[str]] = field(default_factory=lambda: {BEFORE: set(), AFTER: set()})
    _synthetic: dict[str, str] = field(default_factory=dict)  # stand-in namespace -> display
    # (namespace, sorted labels) of every member: "is there a pod like this already?"
    _shapes: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    # namespaces ---------------------------------------------------------------

    def absent(self, name: str, side: str) -> None:
        """The namespace does not exist on ``side`` (the change creates or deletes it)."""
        self._absent[side].add(name)

    def namespace(self, name: str, labels: Labels | Mapping[str, str] = (), side: str = "") -> None:
        """Labels of a namespace on one side (``side``), or for both sides.

        A side's labels replace the shared ones: a label removed on one side
        must read as removed.
        """
        values = dict(labels)
        if side:
            self._sides[side].setdefault(name, {}).update(values)
        else:
            self._common.setdefault(name, {}).update(values)

    def _labels(self, side: str) -> dict[str, dict[str, str]]:
        names = set(self._common) | set(self._sides[BEFORE]) | set(self._sides[AFTER])
        names |= {m.pod.namespace for m in self._members.values()}
        own = self._sides[side]
        return {
            n: {NAME_LABEL: n, **(own[n] if n in own else self._common.get(n, {}))}
            for n in sorted(names)
        }

    # pods ---------------------------------------------------------------------

    def pod(
        self,
        key: str,
        namespace: str,
        labels: Mapping[str, str],
        ports: tuple[DeclaredPort, ...] = (),
        *,
        display: str | None = None,
        group: str | None = None,
    ) -> None:
        if key in self._members:
            return
        pod = Pod(key, namespace, dict(labels), ports)
        self._members[key] = Member(pod, display or key, group or namespace)
        self._shapes.add((namespace, tuple(sorted(pod.labels.items()))))

    def unlisted(self, namespace: str) -> None:
        group = self._synthetic.get(namespace)
        if group is not None:  # stands for namespaces outside the world: name it so
            self.pod(
                f"{namespace}/<any pod>", namespace, {}, display=f"{group}/<any pod>", group=group
            )
            return
        self.pod(f"{namespace}/<unlisted pod>", namespace, {})

    def external(self, external: External) -> None:
        self._externals.setdefault(external.name, external)

    def record(self, record: IntentRecord, side: str = "") -> None:
        """Everything an intent record declares, with verify's stand-ins."""
        for ns in record.namespaces:
            self.namespace(ns.name, ns.labels, side)
            self.unlisted(ns.name)
            if ns.dns is not None:
                dns = dict(ns.dns.labels)
                self.namespace(ns.dns.namespace)
                self.pod(
                    f"{ns.dns.namespace}/{_labels_text(dns)}", ns.dns.namespace, dns, ns.dns.ports
                )
        for w in record.workloads:
            self.pod(w.key, w.namespace, dict(w.labels), w.ports)
        for e in record.external:
            self.external(e)
        for flow in record.flows:
            for end in (flow.source, flow.destination):
                labels = dict(end.labels)
                ports = flow.ports if end is flow.destination else ()
                if end.kind == "selection":
                    self.pod(
                        f"{end.namespace}/{_labels_text(labels)}", str(end.namespace), labels, ports
                    )
                elif end.kind == "namespaces":
                    self._foreign(end, ports)

    def _foreign(self, end: FlowEnd, ports: tuple[DeclaredPort, ...]) -> None:
        """A ``namespaces`` end: its pods as the user wrote them, and the pods around them
        (the same namespaces without the pod labels, the labels in another namespace, the
        same namespaces of another environment)."""
        assert end.namespace_selector is not None
        labels = dict(end.labels)
        group = end.scope_text()
        if end.namespace_selector.is_empty():
            name = UNLISTED_NAMESPACE  # build() adds its pod without the labels
            self.pod(f"{name}/{end}", name, labels, ports, display=str(end), group=group)
            return
        name, ns_labels = end.stand_in_namespace()
        self.namespace(name, ns_labels)
        self._synthetic.setdefault(name, group)
        self._selected(UNLISTED_NAMESPACE, labels)
        self.pod(f"{name}/{end}", name, labels, ports, display=str(end), group=group)
        self.unlisted(name)
        if end.environment is not None:  # environments stay apart: the same pods elsewhere
            other, other_labels = end.stand_in_namespace(other_environment=True)
            self.namespace(other, other_labels)
            self.pod(
                f"{other}/{end.pods_text()}",
                other,
                labels,
                display=f"{end.pods_text()} in {group} but of another environment",
                group=f"{group} (another environment)",
            )

    def inventory(self, inventory: Inventory) -> None:
        for ns in inventory.namespaces:
            self.namespace(ns.name, ns.labels)
            self.unlisted(ns.name)
        for w in inventory.workloads:
            self.pod(w.key, w.namespace, dict(w.labels), w.ports)
        for e in inventory.external:
            self.external(e)

    def selectors(self, policies: Iterable[NetworkPolicy]) -> None:
        """A pod for every selector the policies use, in the namespaces it can match."""
        known = self._labels(AFTER)
        known_before = self._labels(BEFORE)
        names = sorted(set(known) | set(known_before))
        after_index = LabelIndex([known.get(n, {}) for n in names])
        before_index = LabelIndex([known_before.get(n, {}) for n in names])
        for policy in policies:
            self.namespace(policy.namespace)
            self.unlisted(policy.namespace)
            self._selected(policy.namespace, selector_labels(policy.pod_selector))
            for rule in policy.ingress + policy.egress:
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        continue
                    pods = selector_labels(peer.pod_selector)
                    if peer.namespace_selector is None:
                        self._selected(policy.namespace, pods)
                        continue
                    wanted = selector_labels(peer.namespace_selector)
                    selected = after_index.select(peer.namespace_selector) | before_index.select(
                        peer.namespace_selector
                    )
                    for n in iter_bits(selected):
                        self._selected(names[n], pods)
                    if peer.namespace_selector.is_empty():
                        self._selected(UNLISTED_NAMESPACE, pods)
                    elif NAME_LABEL in wanted:
                        name = wanted[NAME_LABEL]
                        if name not in known:
                            self.namespace(name, wanted)
                        self._selected(name, pods)
                    else:
                        self._selected_namespace(wanted, pods, ())

    def _selected(self, namespace: str, labels: Mapping[str, str]) -> None:
        if not labels and namespace == UNLISTED_NAMESPACE:
            return  # build() adds the pod that stands for any pod anywhere else
        if not labels:
            self.unlisted(namespace)
            return
        if (namespace, tuple(sorted(labels.items()))) in self._shapes:
            return  # a declared workload already stands for these pods
        if namespace == UNLISTED_NAMESPACE:
            text = _labels_text(labels)
            self.pod(
                f"{namespace}/{text}",
                namespace,
                labels,
                display=f"{UNLISTED_NAMESPACE_DISPLAY}/{text}",
                group=UNLISTED_NAMESPACE_DISPLAY,
            )
            return
        self.pod(f"{namespace}/{_labels_text(labels)}", namespace, labels)

    def _selected_namespace(
        self,
        ns_labels: Mapping[str, str],
        labels: Mapping[str, str],
        ports: tuple[DeclaredPort, ...],
    ) -> None:
        """Pods in namespaces outside the world that carry ``ns_labels``."""
        name = f"netfence-namespaces-{_labels_text(ns_labels)}"
        self.namespace(name, ns_labels)
        group = self._synthetic[name] = f"<namespaces {_labels_text(ns_labels)}>"
        pods = _labels_text(labels) if labels else "<any pod>"
        self.pod(f"{name}/{pods}", name, labels, ports, display=f"{group}/{pods}", group=group)

    def build(self) -> World:
        self.pod(
            f"{UNLISTED_NAMESPACE}/<any pod>",
            UNLISTED_NAMESPACE,
            {},
            display=f"{UNLISTED_NAMESPACE_DISPLAY}/<any pod>",
            group=UNLISTED_NAMESPACE_DISPLAY,
        )
        members = tuple(sorted(self._members.values(), key=lambda m: m.display))
        return World(
            members,
            self._labels(BEFORE),
            self._labels(AFTER),
            tuple(sorted(self._externals.values(), key=lambda e: e.name)),
            {side: frozenset(names) for side, names in self._absent.items()},
        )
