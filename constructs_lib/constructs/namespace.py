"""The construct layer: thin wrappers that put model objects in a cdktf/cdktn construct tree."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from constructs_lib._node import ensure_node

ensure_node()

from constructs import Construct  # noqa: E402

from constructs_lib.compiler import compile_topology  # noqa: E402
from constructs_lib.config import ProjectConfig  # noqa: E402
from constructs_lib.constructs._scope import (  # noqa: E402
    check_scope,
    enclosing_stack,
    jsii_errors,
    stack_name,
)
from constructs_lib.constructs.cdk import cdk_of  # noqa: E402
from constructs_lib.emitters.cdktf_emitter import element_class  # noqa: E402
from constructs_lib.emitters.terraform import (  # noqa: E402
    DEPRECATED_TWINS,
    LABELS,
    NAMESPACE,
    NETWORK_POLICY,
    PROVIDER_VERSION,
    PROVIDER_VERSIONS,
    ProviderConfig,
    override,
    render_terraform,
    resource_name,
)
from constructs_lib.errors import InvalidIntentError  # noqa: E402
from constructs_lib.model import (  # noqa: E402
    DnsTarget,
    Namespace,
    Port,
    Topology,
    Workload,
    WorkloadSelection,
    validation,
)
from constructs_lib.spec import CompiledStack, Override  # noqa: E402

_STATE_ATTR = "_netfence_state"
_ELEMENT_ID = "netfence"
_TF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_OVERRIDE_PATH = re.compile(r"[A-Za-z0-9_./-]+(\.[A-Za-z0-9_./-]+)*")


class StackState:
    """What netfence keeps per stack: the intent, provider, overrides."""

    def __init__(self, stack: Any) -> None:
        self.topology = Topology(stack_name(stack.node.id))
        self.stack = stack
        self.config: ProjectConfig | None = None  # set by NetfenceStack: it reads netfence.yaml
        self.provider: ProviderConfig | None = None
        self.overrides: list[Override] = []
        self.imports: tuple[tuple[str, str], ...] = ()  # (address, id) from netfence.yaml
        self.moves: list[tuple[str, str]] = []  # (old address, new address)
        self._cache: tuple[tuple[int, int], CompiledStack] | None = None
        self._rendered: tuple[object, dict[str, Any]] | None = None
        # While True, the element hands cdktf nothing and the stack's
        # StagedSynthesizer merges the fragment into cdk.tf.json itself (no
        # jsii marshalling); cdktf's Testing helpers still get it through jsii.
        self.deferred = False
        cdk = cdk_of(stack)
        element_class(cdk)(stack, _ELEMENT_ID, self._element_fragment, self._element_metadata)
        from constructs_lib.constructs.synth import staged_synthesizer  # imports this module

        stack.synthesizer = staged_synthesizer(cdk)(stack.node.id, stack.synthesizer, self)

    @staticmethod
    def of(scope: Construct) -> StackState:
        """The state of the stack ``scope`` is or is in (no jsii round trip once known)."""
        state: StackState | None = getattr(scope, _STATE_ATTR, None)
        if state is not None:  # scope is the stack
            return state
        stack = enclosing_stack(scope)
        if stack is None:
            raise InvalidIntentError(
                scope.node.path or "<root>", "scope", "is neither a stack nor inside one"
            )
        state = getattr(stack, _STATE_ATTR, None)
        if state is None:
            state = StackState(stack)
            setattr(stack, _STATE_ATTR, state)
        return state

    def compiled(self) -> CompiledStack:
        """The compiled intent with the overrides both emitters apply."""
        key = (self.topology.version, len(self.overrides))
        if self._cache is None or self._cache[0] != key:
            compiled = compile_topology(self.topology)
            self._cache = (key, replace(compiled, overrides=tuple(self.overrides)))
        return self._cache[1]

    def render(self) -> dict[str, Any]:
        self._check_config()
        key = (
            self.topology.version,
            self.provider,
            len(self.overrides),
            self.imports,
            len(self.moves),
        )
        if self._rendered is None or self._rendered[0] != key:
            fragment = render_terraform(
                self.compiled(),
                provider=self.provider,
                imports=self.imports,
                moves=self.moves,
            )
            self._rendered = (key, fragment)
        return self._rendered[1]

    def _check_config(self) -> None:
        """netfence.yaml names only stacks of this app (the whole app is known by now)."""
        if self.config is None:
            return
        readers: list[str] = []
        others: list[str] = []
        for child in self.stack.node.root.node.children:
            if cdk_of(child).TerraformStack.is_stack(child):
                state = getattr(child, _STATE_ATTR, None)
                reads = state is not None and state.config is not None
                (readers if reads else others).append(child.node.id)
        self.config.check_stacks(readers, others)

    def metadata(self) -> dict[str, Any]:
        return {"netfence": self.compiled().record}

    def _element_fragment(self) -> dict[str, Any]:
        return {} if self.deferred else self.render()

    def _element_metadata(self) -> dict[str, Any]:
        return {} if self.deferred else self.metadata()


class KubernetesCluster(Construct):
    """How Terraform reaches the cluster: the stack's kubernetes provider block.

    config_path: a kubeconfig file; left out, the provider reads KUBE_CONFIG_PATH.
    config_context: the kubeconfig context; left out, the file's current context.
    in_cluster: True to use the pod's service account (Terraform running in
        the cluster); then config_path and config_context must be left out.
    pod_cidrs / service_cidrs: the cluster's pod and service address ranges.
        External endpoints that overlap them get them as ipBlock excepts (most
        CNIs let an ipBlock match pod IPs), and verify checks that no ipBlock
        can admit pods. Left out, verify assumes pods may have any IP, so every
        ipBlock that a pod could match is reported.
    provider_version: the hashicorp/kubernetes version the JSON is written
        for and pinned to: 2.38.0, 3.4.0 or 3.5.0; left out, 2.38.0 (what the
        cdktf bindings target, so existing stacks plan no change; docs/cdk.md
        says what 3.x changes in a plan).
    Without a KubernetesCluster in the stack, no provider block is written,
    the provider takes its whole configuration from the environment and the
    version is 2.38.0.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config_path: str | None = None,
        config_context: str | None = None,
        in_cluster: bool = False,
        pod_cidrs: Sequence[str] = (),
        service_cidrs: Sequence[str] = (),
        provider_version: str = PROVIDER_VERSION,
    ) -> None:
        path = check_scope(type(self).__name__, scope, id)
        validation.boolean(path, "in_cluster", in_cluster)
        if provider_version not in PROVIDER_VERSIONS:
            raise InvalidIntentError(
                path,
                "provider_version",
                f"{provider_version!r} is not a hashicorp/kubernetes version netfence "
                f"writes for; supported: {', '.join(PROVIDER_VERSIONS)} (docs/cdk.md)",
            )
        with jsii_errors(path, scope, id):
            super().__init__(scope, id)
        if in_cluster and (config_path or config_context):
            raise InvalidIntentError(
                path,
                "in_cluster",
                "in_cluster=True uses the pod's service account; leave "
                "config_path and config_context out",
            )
        for field, value in (("config_path", config_path), ("config_context", config_context)):
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidIntentError(path, field, f"{value!r} is not a non-empty string")
        state = StackState.of(scope)
        if state.provider is not None:
            raise InvalidIntentError(
                path, "id", "the stack already has a KubernetesCluster; declare one per stack"
            )
        state.topology.set_cluster_ranges(path, pod_cidrs=pod_cidrs, service_cidrs=service_cidrs)
        state.provider = ProviderConfig(config_path, config_context, in_cluster, provider_version)


class PolicyHandle:
    """A reference to one generated Terraform resource, for escape-hatch overrides."""

    def __init__(
        self, state: StackState, resource_type: str, name: str, target: tuple[str, str | None, str]
    ) -> None:
        self._state = state
        self.resource_type = resource_type
        self.name = name
        self._target = target  # the Kubernetes object: (kind, namespace, name)

    @property
    def address(self) -> str:
        """The Terraform address, e.g. ``kubernetes_network_policy_v1.shop_api-ingress``."""
        return f"{self.resource_type}.{self.name}"

    def add_override(self, path: str, value: Any) -> None:
        """Set ``path`` (dotted Terraform path, e.g. ``metadata.annotations.team``).

        A Kubernetes field reaches both artifacts (cdk.tf.json and
        manifests.yaml; ``spec.pod_selector`` is ``spec.podSelector`` there), so
        they never disagree; ``netfence verify`` sees it like any other part
        of the artifact. Of Terraform's own settings only those that leave the
        object alone are accepted (``lifecycle.prevent_destroy``,
        ``lifecycle.create_before_destroy``, ``timeouts``); ``provider``,
        ``count``, ``lifecycle.ignore_changes`` and the like are refused.
        """
        if not isinstance(path, str) or not _OVERRIDE_PATH.fullmatch(path):
            raise InvalidIntentError(
                self.address,
                "path",
                f"{path!r} is not a dotted attribute path such as 'metadata.annotations.team'",
            )
        self._state.overrides.append(
            override(self.resource_type, self.name, self._target, path, value)
        )

    def moved_from(self, address: str) -> None:
        """Record that this resource was managed at ``address`` before.

        For adopting state from hand-written configurations: Terraform moves
        the state entry instead of destroying and recreating the object.
        The address may also be of the deprecated twin type (``kubernetes_namespace``
        for ``kubernetes_namespace_v1``); that move needs a provider version
        that moves state across types, which synth checks (docs/cdk.md).
        """
        prefixes = [f"{self.resource_type}."]
        twin = DEPRECATED_TWINS.get(self.resource_type)
        if twin is not None:
            prefixes.append(f"{twin}.")
        valid = isinstance(address, str) and any(
            address.startswith(p) and _TF_NAME.fullmatch(address[len(p) :]) is not None
            for p in prefixes
        )
        if not valid:
            forms = " or ".join(f"'{p}<name>'" for p in prefixes)
            raise InvalidIntentError(
                self.address,
                "moved_from",
                f"{address!r} is not an address of the form {forms} (moved blocks "
                "change the type only from the deprecated twin)",
            )
        if address == self.address:
            raise InvalidIntentError(
                self.address, "moved_from", "the old address equals the new one"
            )
        self._state.moves.append((address, self.address))


class ZeroTrustNamespace(Construct):
    """A namespace where nothing flows unless declared.

    name: the Kubernetes namespace name; left out, the construct id.
    environment: e.g. ``prod``; written as the ``environment`` label, and flows
        between environments are refused unless declared cross_environment.
    labels: more namespace labels; left out, only ``environment``.
    allow_dns: left out (True), every pod may query cluster DNS on 53/UDP+TCP;
        False leaves DNS blocked by the default deny.
    dns: where DNS runs; left out, kube-dns in kube-system
        (``DnsTarget.openshift()`` for OpenShift, ``DnsTarget.create(...)``).
    adopt: left out (False), Terraform creates and owns the namespace; True
        leaves an existing namespace alone and only patches its labels.
    default_deny: left out ("both"), every pod is isolated both ways.
        "ingress" or "egress" isolates every pod in that direction only and
        leaves the other open (a rollout step, docs/rollout.md); "none" writes
        no default deny. In an open direction only workloads
        ``workload.isolate(...)`` isolates are restricted (flows write their
        half there only on those); the rest are allowed everything, and
        verify says so.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: str,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        allow_dns: bool = True,
        dns: DnsTarget | None = None,
        adopt: bool = False,
        default_deny: str = "both",
    ) -> None:
        path = check_scope(type(self).__name__, scope, id)
        with jsii_errors(path, scope, id):
            super().__init__(scope, id)
        self._state = StackState.of(scope)
        ns_name = name if name is not None else id
        self.model: Namespace = self._state.topology.add_namespace(
            path,
            name=ns_name,
            environment=environment,
            labels=labels,
            allow_dns=allow_dns,
            dns=dns,
            adopt=adopt,
            default_deny=default_deny,
        )

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def environment(self) -> str:
        return self.model.environment

    @property
    def default_deny(self) -> str:
        return self.model.default_deny

    def workload(
        self,
        id: str,
        *,
        labels: Mapping[str, str],
        ports: Sequence[Port] | None = None,
        name: str | None = None,
        allow_dns: bool = True,
    ) -> Workload:
        """Declare the pods matching ``labels`` (see ``Namespace.workload``).

        allow_dns: left out (True), the pods may query cluster DNS like every
            pod of the namespace; False leaves them out of the DNS policy.
        """
        return self.model.workload(id, labels=labels, ports=ports, name=name, allow_dns=allow_dns)

    def all_workloads(self) -> WorkloadSelection:
        """Every pod of this namespace: an explicit allow-all peer."""
        return self.model.all_workloads()

    def select(self, labels: Mapping[str, str]) -> WorkloadSelection:
        """Every pod of this namespace whose labels include ``labels``."""
        return self.model.select(labels)

    def raw_policy(self, name: str, spec: Mapping[str, Any], *, reason: str) -> PolicyHandle:
        """Keep the NetworkPolicy ``spec`` (a dict, as in a manifest) verbatim.

        The escape hatch for what workloads and flows cannot express exactly
        (``netfence migrate`` writes it, with the reason): the spec is read as
        strictly as any policy, emitted as written into both artifacts, and
        recorded as declared, so ``verify`` checks it is there unchanged and
        does not report what it allows.
        """
        self.model.raw_policy(name, spec, reason=reason)
        return self.policy(name)

    def policy(self, name: str) -> PolicyHandle:
        """The generated NetworkPolicy ``name`` (``default-deny``, ``api-ingress``...)."""
        validation.dns_label(self.model.path, "policy", name)
        return PolicyHandle(
            self._state,
            NETWORK_POLICY,
            resource_name(self.name, name),
            ("NetworkPolicy", self.name, name),
        )

    @property
    def namespace_resource(self) -> PolicyHandle:
        """The namespace resource (``kubernetes_labels`` when adopted)."""
        rtype = LABELS if self.model.adopt else NAMESPACE
        return PolicyHandle(
            self._state, rtype, resource_name(self.name), ("Namespace", None, self.name)
        )


def stack_states(app: Construct) -> list[tuple[str, StackState]]:
    out = []
    for child in app.node.children:
        state = getattr(child, _STATE_ATTR, None)
        if state is not None:
            out.append((child.node.id, state))
    return sorted(out, key=lambda item: item[0])
