"""Namespaces outside the stack as flow ends: by name, by label, or all of them.

``Namespaces.named("ingress-nginx").pods({"app.kubernetes.io/name": "ingress-nginx"})``
is one NetworkPolicy peer: a namespaceSelector AND a podSelector. The stack
writes the policy of its own end of the flow; the foreign pods, which this
stack does not own, get none. Where a selection by label or ``all()`` also
matches namespaces of this stack, their matching pods get the policy a
default deny makes them need, as for any selection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation
from constructs_lib.model.port import Port
from constructs_lib.model.validation import Labels
from constructs_lib.spec import NAME_LABEL, Peer, Requirement, Selector

if TYPE_CHECKING:
    from constructs_lib.model.topology import ClusterRanges, Subject, Topology

ENVIRONMENT_LABEL = "environment"
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class LabelExpression:
    """One label requirement of a namespace selection (a matchExpressions entry).

    Build with ``LabelExpression.is_in("team", ["a", "b"])``, ``not_in(...)``,
    ``exists("owner")`` or ``does_not_exist("legacy")``. ``NotIn`` and
    ``DoesNotExist`` also match namespaces without the key, as in Kubernetes.
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def is_in(cls, key: str, values: Sequence[str]) -> LabelExpression:
        return cls._make("LabelExpression.is_in()", key, "In", values)

    @classmethod
    def not_in(cls, key: str, values: Sequence[str]) -> LabelExpression:
        return cls._make("LabelExpression.not_in()", key, "NotIn", values)

    @classmethod
    def exists(cls, key: str) -> LabelExpression:
        return cls._make("LabelExpression.exists()", key, "Exists", ())

    @classmethod
    def does_not_exist(cls, key: str) -> LabelExpression:
        return cls._make("LabelExpression.does_not_exist()", key, "DoesNotExist", ())

    @classmethod
    def _make(cls, path: str, key: str, operator: str, values: Sequence[str]) -> LabelExpression:
        validation.label_key(path, "key", key)
        items = validation.items(path, "values", values, "label values", repr)
        checked = tuple(sorted({validation.label_value(path, "values", key, v) for v in items}))
        if operator in ("In", "NotIn") and not checked:
            raise InvalidIntentError(path, "values", f"{operator} needs at least one value")
        return cls(key, operator, checked)

    def requirement(self) -> Requirement:
        return Requirement(self.key, self.operator, self.values)

    def __str__(self) -> str:
        if self.values:
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key} {self.operator}"


@dataclass(frozen=True)
class Namespaces:
    """A set of namespaces, most often outside this stack; a flow end via ``.pods()``.

    ``Namespaces.named("ingress-nginx")`` (several names: any of them),
    ``Namespaces.labelled({"team": "platform"})`` (and ``expressions=`` for
    In / NotIn / Exists / DoesNotExist), ``Namespaces.all()`` (every
    namespace, explicitly). ``environment=`` on any of them keeps only
    namespaces labelled with that environment; without it, a flow to or from
    the selection may cross environments and must say ``cross_environment=True``.
    """

    names: tuple[str, ...]
    labels: Labels
    expressions: tuple[LabelExpression, ...]
    path: str = field(compare=False)  # how it was written, for messages

    @classmethod
    def named(cls, *names: str, environment: str | None = None) -> Namespaces:
        """The namespaces called ``names`` (their ``kubernetes.io/metadata.name``)."""
        path = f"Namespaces.named({', '.join(map(repr, names))})"
        if not names:
            raise InvalidIntentError(path, "names", "name at least one namespace")
        checked = []
        for i, name in enumerate(names):
            validation.dns_label(path, f"names[{i}]", name)
            if name in checked:
                raise InvalidIntentError(path, f"names[{i}]", f"namespace {name!r} is named twice")
            checked.append(name)
        return cls(tuple(sorted(checked)), _environment(path, environment, ()), (), path)

    @classmethod
    def labelled(
        cls,
        labels: Mapping[str, str] | None = None,
        *,
        expressions: Sequence[LabelExpression] = (),
        environment: str | None = None,
    ) -> Namespaces:
        """The namespaces whose labels include ``labels`` and meet ``expressions``."""
        path = f"Namespaces.labelled({dict(labels or {})!r})"
        lab = validation.labels(path, "labels", labels, allow_empty=True)
        for key, _ in lab:
            if key == NAME_LABEL:
                raise InvalidIntentError(
                    path,
                    "labels",
                    f"select namespaces by name with Namespaces.named(...), not the "
                    f"{NAME_LABEL!r} label",
                )
        exprs = []
        listed = validation.items(
            path, "expressions", expressions, "LabelExpressions", lambda v: "LabelExpression..."
        )
        for i, expr in enumerate(listed):
            if not isinstance(expr, LabelExpression):
                raise InvalidIntentError(
                    path,
                    f"expressions[{i}]",
                    f"{expr!r} is not a LabelExpression (use LabelExpression.is_in(...), "
                    "not_in(...), exists(...) or does_not_exist(...))",
                )
            if expr.key == NAME_LABEL:
                raise InvalidIntentError(
                    path,
                    f"expressions[{i}]",
                    f"select namespaces by name with Namespaces.named(...), not the "
                    f"{NAME_LABEL!r} label",
                )
            exprs.append(expr)
        if not lab and not exprs:
            raise InvalidIntentError(
                path,
                "labels",
                "no labels and no expressions would select every namespace; use "
                "Namespaces.all() to say that explicitly",
            )
        merged = _environment(path, environment, lab)
        ordered = tuple(sorted(set(exprs), key=lambda e: (e.key, e.operator, e.values)))
        return cls((), merged, ordered, path)

    @classmethod
    def all(cls, *, environment: str | None = None) -> Namespaces:
        """Every namespace of the cluster (of one environment with ``environment=``)."""
        path = "Namespaces.all()"
        return cls((), _environment(path, environment, ()), (), path)

    def pods(self, labels: Mapping[str, str]) -> NamespacePods:
        """The pods of these namespaces whose labels include ``labels``."""
        path = f"{self.path}.pods()"
        if isinstance(labels, Mapping) and not labels:
            raise InvalidIntentError(
                path,
                "labels",
                "an empty label selector selects every pod; use .all_pods() to say that explicitly",
            )
        return NamespacePods(self, validation.labels(path, "labels", labels, allow_empty=False))

    def all_pods(self) -> NamespacePods:
        """Every pod of these namespaces (a namespaceSelector alone)."""
        return NamespacePods(self, ())

    @property
    def environment(self) -> str | None:
        return dict(self.labels).get(ENVIRONMENT_LABEL)

    def selector(self) -> Selector:
        requirements = [e.requirement() for e in self.expressions]
        labels = dict(self.labels)
        if len(self.names) == 1:
            labels[NAME_LABEL] = self.names[0]
        elif self.names:
            requirements.append(Requirement(NAME_LABEL, "In", self.names))
        return Selector(tuple(sorted(labels.items())), tuple(sorted(requirements)))

    def matches(self, name: str, labels: Labels) -> bool:
        """Whether a namespace called ``name`` with ``labels`` is one of these."""
        have = {**dict(labels), NAME_LABEL: name}
        sel = self.selector()
        if any(have.get(k) != v for k, v in sel.match_labels):
            return False
        for req in sel.match_expressions:
            present = req.key in have
            if req.operator == "In" and have.get(req.key) not in req.values:
                return False
            if req.operator == "NotIn" and present and have[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True

    def describe(self) -> str:
        """How reports name the selection: as it was written."""
        if self.names:
            text = f"namespaces named {', '.join(self.names)}"
            extra = ", ".join(f"{k}={v}" for k, v in self.labels)
            return text + (f" ({extra})" if extra else "")
        parts = [f"{k}={v}" for k, v in self.labels] + [str(e) for e in self.expressions]
        return f"namespaces labelled {', '.join(parts)}" if parts else "all namespaces"

    def to_record(self) -> dict[str, Any]:
        """The namespace selector as a Kubernetes label selector (docs/artifact.md)."""
        return self.selector().to_kubernetes()


def _environment(path: str, environment: str | None, labels: Labels) -> Labels:
    if environment is None:
        return labels
    env = validation.label_value(path, "environment", ENVIRONMENT_LABEL, environment)
    if not env:
        raise InvalidIntentError(path, "environment", "'' is not an environment name")
    have = dict(labels)
    if have.get(ENVIRONMENT_LABEL, env) != env:
        raise InvalidIntentError(
            path,
            "environment",
            f"environment={env!r} contradicts the label environment="
            f"{have[ENVIRONMENT_LABEL]!r}; set it once",
        )
    have[ENVIRONMENT_LABEL] = env
    return tuple(sorted(have.items()))


@dataclass(frozen=True)
class NamespacePods:
    """Pods of a ``Namespaces`` selection: a flow end (see ``Namespaces``)."""

    namespaces: Namespaces
    labels: Labels

    # Endpoint protocol
    def peers(self, policy_namespace: str, cluster: ClusterRanges) -> tuple[Peer, ...]:
        pods = Selector(self.labels) if self.labels else None
        return (Peer(namespace_selector=self.namespaces.selector(), pod_selector=pods),)

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        """Matching pods in namespaces of this stack: its default deny isolates them too."""
        from constructs_lib.model.topology import Subject, selection_policy_name

        name = selection_policy_name(self.labels)
        what = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        return tuple(
            Subject(ns.name, name, self.labels, what)
            for _, ns in sorted(topology.namespaces.items())
            if self.namespaces.matches(ns.name, ns.all_labels)
        )

    def default_ports(self) -> tuple[Port, ...]:
        return ()

    def environment(self) -> str | None:
        return self.namespaces.environment

    def may_cross(self, environment: str) -> bool:
        return self.namespaces.environment != environment

    def describe(self) -> str:
        pods = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"{self.namespaces.describe()} / {'pods ' + pods if pods else 'all pods'}"

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": "namespaces",
            "namespaces": self.namespaces.to_record(),
            "labels": dict(self.labels),
        }
