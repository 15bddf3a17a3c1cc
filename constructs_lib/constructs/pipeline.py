"""Pipeline, BuildEnvironment and preview namespaces as constructs (L3 patterns)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from constructs import Construct

from constructs_lib.constructs._scope import check_scope, jsii_errors
from constructs_lib.constructs.namespace import StackState, ZeroTrustNamespace
from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import (
    DnsTarget,
    ExternalEndpoint,
    Namespace,
    Port,
    Workload,
    WorkloadSelection,
    validation,
)
from constructs_lib.model.build import PROD_ENVIRONMENTS
from constructs_lib.model.build import BuildEnvironment as BuildModel
from constructs_lib.model.pipeline import Pipeline as PipelineModel
from constructs_lib.model.pipeline import Stage


def _namespace(path: str, field: str, value: object) -> Namespace:
    if isinstance(value, ZeroTrustNamespace):
        return value.model
    if isinstance(value, Namespace):
        return value
    raise InvalidIntentError(path, field, f"{value!r} is not a ZeroTrustNamespace")


class Pipeline(Construct):
    """Stages and the data flow between them, turned into exact policies.

    name: the pipeline name, used in labels and policy names; left out, the id.
    """

    def __init__(self, scope: Construct, id: str, *, name: str | None = None) -> None:
        path = check_scope(type(self).__name__, scope, id)
        with jsii_errors(path, scope, id):
            super().__init__(scope, id)
        state = StackState.of(scope)
        self.model = PipelineModel(state.topology, path, name if name is not None else id)

    @property
    def name(self) -> str:
        return self.model.name

    def stage(
        self,
        id: str,
        *,
        namespace: ZeroTrustNamespace,
        labels: Mapping[str, str] | None = None,
        ports: Sequence[Port] | None = None,
        service_account: bool = True,
        automount_token: bool = False,
        deploys_to: ZeroTrustNamespace | None = None,
        allow_dns: bool = True,
    ) -> Stage:
        """Declare a stage (see ``constructs_lib.model.pipeline.Pipeline.stage``)."""
        path = f"{self.model.path}/{id}"
        return self.model.stage(
            id,
            namespace=_namespace(path, "namespace", namespace),
            labels=labels,
            ports=ports,
            service_account=service_account,
            automount_token=automount_token,
            deploys_to=None if deploys_to is None else _namespace(path, "deploys_to", deploys_to),
            allow_dns=allow_dns,
        )


class BuildEnvironment(ZeroTrustNamespace):
    """A zero-trust namespace for CI build and test jobs.

    Every pod in it is a job. Jobs reach only what ``allow_endpoint`` and
    ``allow_service`` approve (plus DNS); nothing reaches in.
    environment: left out, ``ci``.
    prod_environments: environments a job never reaches unless the flow is
        declared ``cross_environment=True``; left out, ``prod`` and ``production``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: str = "ci",
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        allow_dns: bool = True,
        dns: DnsTarget | None = None,
        prod_environments: Sequence[str] = PROD_ENVIRONMENTS,
    ) -> None:
        super().__init__(
            scope,
            id,
            environment=environment,
            name=name,
            labels=labels,
            allow_dns=allow_dns,
            dns=dns,
        )
        self.build = BuildModel(self.model, prod_environments=prod_environments)

    @property
    def jobs(self) -> WorkloadSelection:
        return self.build.jobs

    def allow_endpoint(
        self, *endpoints: ExternalEndpoint, ports: Sequence[Port] | None = None
    ) -> None:
        """Approve external endpoints: registry, source host, package mirrors."""
        self.build.allow_endpoint(*endpoints, ports=ports)

    def allow_service(
        self,
        service: Workload | WorkloadSelection,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> None:
        """Approve a service inside the cluster for the jobs."""
        self.build.allow_service(service, ports=ports, cross_environment=cross_environment)


PREVIEW_CONTEXT = "netfence.preview"
PREVIEW_ENV = "NETFENCE_PREVIEW"


def preview_namespace(
    scope: Construct,
    id: str,
    *,
    template: Callable[[ZeroTrustNamespace], None],
    environment: str = "preview",
    prefix: str = "pr",
    branch: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> ZeroTrustNamespace:
    """A per-branch (or per-PR) namespace with the policies ``template`` declares.

    branch: the branch or PR; left out, the cdktf context ``netfence.preview``
        (``"context"`` in cdktf.json, or CDKTF_CONTEXT_JSON), then the
        environment variable NETFENCE_PREVIEW. The namespace is ``<prefix>-<branch>``, which
        must be a DNS-1123 label: it is validated, never silently rewritten.
    """
    path = check_scope("preview_namespace", scope, id)
    if not callable(template):
        raise InvalidIntentError(
            path, "template", f"{template!r} is not a function taking the ZeroTrustNamespace"
        )
    validation.text(path, "prefix", prefix, "a name prefix")
    extra = dict(validation.labels(path, "labels", labels, allow_empty=True))
    if branch is not None:
        validation.text(path, "branch", branch, "a branch or PR name")
    source = "branch"
    if branch is None:
        context = scope.node.try_get_context(PREVIEW_CONTEXT)
        if context is not None:
            branch, source = str(context), f"context {PREVIEW_CONTEXT}"
        elif os.environ.get(PREVIEW_ENV):
            branch, source = os.environ[PREVIEW_ENV], f"environment variable {PREVIEW_ENV}"
        else:
            raise InvalidIntentError(
                path,
                "branch",
                f"no preview name: pass branch=, set the cdktf context "
                f"{PREVIEW_CONTEXT} or the environment variable {PREVIEW_ENV}",
            )
    name = f"{prefix}-{branch}"
    try:
        validation.dns_label(path, "name", name)
    except InvalidIntentError:
        raise InvalidIntentError(
            path,
            source,
            f"{branch!r} makes the namespace name {name!r}, which is not a "
            "DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
        ) from None
    ns = ZeroTrustNamespace(
        scope,
        id,
        name=name,
        environment=environment,
        labels={**extra, "netfence.io/preview": branch},
    )
    template(ns)
    return ns
