"""NetfenceStack: a TerraformStack whose backend and imports come from netfence.yaml."""

from __future__ import annotations

import inspect
from typing import Any

from constructs import Construct

from constructs_lib.config import BackendConfig, ProjectConfig, load_config
from constructs_lib.constructs._scope import check_scope, jsii_errors
from constructs_lib.constructs.cdk import FollowsApp, cdk_of
from constructs_lib.constructs.namespace import StackState
from constructs_lib.errors import InvalidIntentError

CONFIG_CONTEXT = "netfence.config"


def default_state_path(stack: str) -> str:
    """Local state beside the project (three levels up from cdktf.out/stacks/<stack>).

    cdktf's own default is an absolute path, which would make the artifact
    differ from one checkout to the next.
    """
    return f"../../../terraform.{stack}.tfstate"


class NetfenceStack(metaclass=FollowsApp):
    """A stack configured from ``netfence.yaml`` (see ``constructs_lib.config``).

    It is a ``TerraformStack`` of the CDK its App comes from (cdktf or cdktn).

    config: the parsed settings; left out, the file named by the cdktf context
        ``netfence.config``, else ``./netfence.yaml``, else local state in
        ``terraform.<stack>.tfstate`` at the project root and no imports.
    """

    def __init__(self, scope: Construct, id: str, *, config: ProjectConfig | None = None) -> None:
        path = check_scope(type(self).__name__, scope, id, stack=True)
        if config is not None and not isinstance(config, ProjectConfig):
            raise InvalidIntentError(
                path, "config", f"{config!r} is not a ProjectConfig (use load_config(path))"
            )
        with jsii_errors(path, scope, id):
            # the next base is the TerraformStack of the App's CDK (see FollowsApp)
            super().__init__(scope, id)  # type: ignore[call-arg]
        stack: Any = self
        if config is None:
            config = load_config(stack.node.try_get_context(CONFIG_CONTEXT))
        settings = config.for_stack(id)
        apply_backend(stack, settings.backend or BackendConfig("local", {}))
        state = StackState.of(stack)
        state.imports = settings.imports
        state.config = config


def apply_backend(stack: Any, backend: BackendConfig) -> Any:
    """The stack's backend, made with the stack's own CDK (cdktf or cdktn)."""
    cdk = cdk_of(stack)
    s: dict[str, Any] = dict(backend.settings)
    if backend.type == "local":
        return cdk.LocalBackend(
            stack,
            path=s.get("path", default_state_path(stack.node.id)),
            workspace_dir=s.get("workspace_dir"),
        )
    if backend.type == "s3":
        if "use_lockfile" in inspect.signature(cdk.S3Backend.__init__).parameters:
            return cdk.S3Backend(stack, **s)  # cdktn: native (cdktf.json targets terraform >= 1.10)
        lockfile = s.pop("use_lockfile", None)
        made = cdk.S3Backend(stack, **s)
        if lockfile is not None:  # Terraform >= 1.10; cdktf 0.21 has no argument for it
            made.add_override("use_lockfile", lockfile)
        return made
    if backend.type == "gcs":
        return cdk.GcsBackend(stack, **s)
    if backend.type == "azurerm":
        return cdk.AzurermBackend(stack, **s)
    spaces = s.pop("workspaces")
    if backend.type == "remote":
        remote_ws: Any = (
            cdk.NamedRemoteWorkspace(name=spaces["name"])
            if "name" in spaces
            else cdk.PrefixedRemoteWorkspaces(prefix=spaces["prefix"])
        )
        return cdk.RemoteBackend(stack, workspaces=remote_ws, **s)
    cloud_ws: Any = (
        cdk.NamedCloudWorkspace(name=spaces["name"], project=spaces.get("project"))
        if "name" in spaces
        else cdk.TaggedCloudWorkspaces(tags=spaces["tags"], project=spaces.get("project"))
    )
    return cdk.CloudBackend(stack, workspaces=cloud_ws, **s)
