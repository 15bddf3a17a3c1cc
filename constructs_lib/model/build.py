"""Build environments: CI jobs that reach only approved endpoints and services."""

from __future__ import annotations

from collections.abc import Sequence

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation
from constructs_lib.model.port import Port
from constructs_lib.model.topology import (
    ENVIRONMENT_LABEL,
    Endpoint,
    ExternalEndpoint,
    Namespace,
    Workload,
    WorkloadSelection,
)

PROD_ENVIRONMENTS = ("prod", "production")


class BuildEnvironment:
    """A namespace for build and test jobs: every pod in it is a job.

    Jobs may open connections only to the endpoints and services approved
    here (plus DNS). Nothing reaches into the namespace. A flow to a
    namespace of a production environment must be declared
    ``cross_environment=True``, even when the build namespace itself is
    labelled with a production environment.
    """

    def __init__(
        self, namespace: Namespace, *, prod_environments: Sequence[str] = PROD_ENVIRONMENTS
    ):
        if namespace.open:
            raise InvalidIntentError(
                namespace.path,
                "default_deny",
                f"a build environment isolates its jobs both ways; default_deny="
                f"{namespace.default_deny!r} would leave "
                f"{' and '.join(d.value.lower() for d in namespace.open)} open: "
                "use default_deny='both'",
            )
        self.namespace = namespace
        path = namespace.path
        self.prod_environments = tuple(
            validation.label_value(path, "prod_environments", ENVIRONMENT_LABEL, env)
            for env in validation.items(
                path, "prod_environments", prod_environments, "environment names", repr
            )
        )

    @property
    def jobs(self) -> WorkloadSelection:
        """All pods of the build namespace."""
        return self.namespace.all_workloads()

    def allow_endpoint(
        self, *endpoints: ExternalEndpoint, ports: Sequence[Port] | None = None
    ) -> None:
        """Approve external endpoints: an artifact registry, the source host, mirrors."""
        path = f"{self.namespace.path}.allow_endpoint()"
        for endpoint in endpoints:
            if not isinstance(endpoint, ExternalEndpoint):
                raise InvalidIntentError(
                    path,
                    "endpoints",
                    f"{endpoint!r} is not an ExternalEndpoint; use "
                    "allow_service() for services inside the cluster",
                )
            self.namespace.topology.add_flow(
                self.jobs, endpoint, ports=ports, cross_environment=False, path=path
            )

    def allow_service(
        self,
        service: Workload | WorkloadSelection,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> None:
        """Approve an internal service (a cache, a test database) for the jobs."""
        path = f"{self.namespace.path}.allow_service()"
        env = service.environment() if hasattr(service, "environment") else None
        if env in self.prod_environments and not cross_environment:
            raise InvalidIntentError(
                path,
                "cross_environment",
                f"{_describe(service)} is in environment {env!r}; "
                "a build environment never reaches production implicitly: pass "
                "cross_environment=True to declare it",
            )
        self.namespace.topology.add_flow(
            self.jobs, service, ports=ports, cross_environment=cross_environment, path=path
        )


def _describe(end: Endpoint | object) -> str:
    describe = getattr(end, "describe", None)
    return describe() if callable(describe) else repr(end)
