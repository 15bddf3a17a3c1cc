"""Renderers of compiled stacks: Terraform JSON (pure data) and Kubernetes YAML.

``cdktf_emitter`` (imported only by the construct layer) wraps the Terraform
renderer in a cdktf/cdktn element; nothing else here touches either.
"""

from constructs_lib.emitters.manifests import render_manifests
from constructs_lib.emitters.terraform import (
    PROVIDER_SOURCE,
    PROVIDER_VERSION,
    PROVIDER_VERSIONS,
    ProviderConfig,
    render_terraform,
    resource_name,
)

__all__ = [
    "PROVIDER_SOURCE",
    "PROVIDER_VERSION",
    "PROVIDER_VERSIONS",
    "ProviderConfig",
    "render_manifests",
    "render_terraform",
    "resource_name",
]
