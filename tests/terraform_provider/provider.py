"""The tfplugin6 Provider service: schema, validation, plan, apply, read, import."""

from __future__ import annotations

import copy
import logging
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfplugin_proto import tfplugin6_5_pb2 as pb
from tfplugin_proto import tfplugin6_5_pb2_grpc as pb_grpc

from . import cty, objects, schema
from .cluster import ENV_VAR, GENERATIONAL, KINDS, ApiError, Cluster, seed
from .cty import UNKNOWN

log = logging.getLogger("terraform_provider")

FILE_SCHEME = "file://"
# Set by the launcher from the name Terraform installed it under (``..._v3.5.0_x5``).
VERSION_ENV = "NETFENCE_TF_PROVIDER_VERSION"


class ProviderError(Exception):
    """Reported to Terraform as an error diagnostic with this summary."""


def _error(summary: str, detail: str = "") -> Any:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


def _warning(summary: str, detail: str = "") -> Any:
    return pb.Diagnostic(severity=pb.Diagnostic.WARNING, summary=summary, detail=detail)


def _known(value: Any) -> Any:
    """Unknowns as null: what the provider has in hand at apply time."""
    if value is UNKNOWN:
        return None
    if isinstance(value, list):
        return [_known(v) for v in value]
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items()}
    return value


def _guarded(response_type: Any) -> Callable[..., Any]:
    """Turn any exception into an error diagnostic instead of a broken RPC."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Provider, request: Any, context: Any) -> Any:
            try:
                return method(self, request, context)
            except (ProviderError, ApiError) as err:
                return response_type(diagnostics=[_error(str(err))])
            except Exception as err:  # a bug here: say so loudly, with the trace
                log.error("%s failed:\n%s", method.__name__, traceback.format_exc())
                return response_type(
                    diagnostics=[_error(f"test provider bug: {err!r}", traceback.format_exc())]
                )

        run.__name__ = method.__name__
        return run

    return wrap


class Provider(pb_grpc.ProviderServicer):  # type: ignore[misc]
    def __init__(self, version: str | None = None) -> None:
        self.version = version or os.environ.get(VERSION_ENV) or schema.DEFAULT_VERSION
        self.provider_block, self.resources = schema.load(self.version)
        self.framework = schema.framework_types(self.version)
        self.cluster: Cluster | None = None

    # -- helpers ----------------------------------------------------------------

    def _schema(self, type_name: str) -> schema.ResourceSchema:
        try:
            return self.resources[type_name]
        except KeyError:
            raise ProviderError(f"the test provider does not serve {type_name}") from None

    def _cluster(self) -> Cluster:
        if self.cluster is None:
            raise ProviderError("provider used before ConfigureProvider")
        return self.cluster

    def _unpack(self, dv: Any, ctype: Any) -> Any:
        if dv.json:
            return cty.from_json(dv.json, ctype)
        return cty.unpack(dv.msgpack, ctype)

    def _pack(self, value: Any, ctype: Any) -> Any:
        return pb.DynamicValue(msgpack=cty.pack(value, ctype))

    # -- schema -----------------------------------------------------------------

    def GetMetadata(self, request: Any, context: Any) -> Any:
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(plan_destroy=False),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in self.resources],
        )

    def GetProviderSchema(self, request: Any, context: Any) -> Any:
        response = pb.GetProviderSchema.Response(
            provider=pb.Schema(version=0, block=schema.to_proto(self.provider_block, pb)),
            server_capabilities=pb.ServerCapabilities(plan_destroy=False),
        )
        for name, rs in self.resources.items():
            response.resource_schemas[name].CopyFrom(
                pb.Schema(version=rs.version, block=schema.to_proto(rs.block, pb))
            )
        return response

    # -- provider ---------------------------------------------------------------

    def ValidateProviderConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateProviderConfig.Response()

    @_guarded(pb.ConfigureProvider.Response)
    def ConfigureProvider(self, request: Any, context: Any) -> Any:
        config = self._unpack(request.config, self.provider_block.cty_type())
        host = (config or {}).get("host")
        if isinstance(host, str) and host.startswith(FILE_SCHEME):
            path = host[len(FILE_SCHEME) :]
        elif os.environ.get(ENV_VAR):
            path = os.environ[ENV_VAR]
        else:
            raise ProviderError(
                f"no fake cluster: set {ENV_VAR} to a JSON file, or the provider's "
                f'host to "{FILE_SCHEME}<path>"'
            )
        cluster_file = Path(path)
        if not cluster_file.exists():
            seed(cluster_file)
        self.cluster = Cluster(cluster_file)
        return pb.ConfigureProvider.Response()

    def StopProvider(self, request: Any, context: Any) -> Any:
        return pb.StopProvider.Response()

    # -- resources --------------------------------------------------------------

    @_guarded(pb.ValidateResourceConfig.Response)
    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        config = self._unpack(request.config, rs.cty_type)
        problems = schema.validate(rs.block, config)
        if request.type_name in self.framework:
            problems += _framework_problems(request.type_name, config)
        return pb.ValidateResourceConfig.Response(diagnostics=[_error(p) for p in problems])

    @_guarded(pb.UpgradeResourceState.Response)
    def UpgradeResourceState(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        raw = request.raw_state.json
        if not raw:
            raise ProviderError("only JSON states are supported (no flatmap)")
        value = schema.normalize(rs.block, cty.from_json(raw, rs.cty_type))
        return pb.UpgradeResourceState.Response(upgraded_state=self._pack(value, rs.cty_type))

    @_guarded(pb.ReadResource.Response)
    def ReadResource(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        current = self._unpack(request.current_state, rs.cty_type)
        if current is None:
            return pb.ReadResource.Response(new_state=request.current_state)
        diagnostics = []
        if rs.kind is None:
            new, diagnostics = self._read_labels(current)
        else:
            namespace, name = objects.identity(rs, current)
            live = self._cluster().get(rs.kind, namespace, name)
            new = None
            if live is not None:
                fresh = objects.from_object(rs, live, current)
                new = schema.settle(rs.block, schema.normalize(rs.block, fresh), current)
        return pb.ReadResource.Response(
            new_state=self._pack(new, rs.cty_type),
            diagnostics=diagnostics,
            private=request.private,
        )

    @_guarded(pb.PlanResourceChange.Response)
    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        ty = rs.cty_type
        prior = self._unpack(request.prior_state, ty)
        proposed = self._unpack(request.proposed_new_state, ty)
        config = self._unpack(request.config, ty)
        response = pb.PlanResourceChange.Response(legacy_type_system=True)
        if proposed is None:  # destroy
            response.planned_state.CopyFrom(self._pack(None, ty))
            return response
        planned = schema.plan(rs.block, proposed, config, prior)
        if prior is not None:
            replace = schema.replace_paths(rs.block, planned, prior)
            if replace:
                planned = schema.plan(rs.block, config, config, None)
                for path in replace:
                    response.requires_replace.append(_attribute_path(path))
            elif rs.kind is not None and not schema.same(rs.block, planned, prior):
                meta = planned["metadata"][0]
                meta["resource_version"] = UNKNOWN
                if rs.kind in GENERATIONAL:
                    meta["generation"] = UNKNOWN
        response.planned_state.CopyFrom(self._pack(planned, ty))
        response.planned_private = request.prior_private
        return response

    @_guarded(pb.ApplyResourceChange.Response)
    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        ty = rs.cty_type
        prior = self._unpack(request.prior_state, ty)
        planned = self._unpack(request.planned_state, ty)
        if rs.kind is None:
            new = self._apply_labels(prior, planned)
        elif planned is None:
            namespace, name = objects.identity(rs, prior)
            with self._cluster().session() as state:
                self._cluster().delete_in(state, rs.kind, namespace, name)
            new = None
        else:
            wanted = objects.to_object(rs, _known(planned))
            objects.fill_server_defaults(rs, wanted)
            store = self._cluster()
            with store.session() as state:
                if prior is None:
                    written = store.create_in(state, wanted)
                else:
                    written = store.replace_in(state, wanted)
            actual = schema.normalize(rs.block, objects.from_object(rs, written, planned))
            new = schema.merge_known(rs.block, planned, actual)
        response = pb.ApplyResourceChange.Response(legacy_type_system=True)
        response.new_state.CopyFrom(self._pack(new, ty))
        response.private = request.planned_private
        return response

    @_guarded(pb.ImportResourceState.Response)
    def ImportResourceState(self, request: Any, context: Any) -> Any:
        rs = self._schema(request.type_name)
        if rs.kind is None:
            raise ProviderError(f"resource {request.type_name} doesn't support import")
        namespace, name = objects.parse_import_id(rs, request.id)
        if request.type_name in self.framework and rs.kind == "Role" and not (namespace and name):
            raise ProviderError(  # 3.4.0 GH-2964: import ids need a namespace and a name
                f'Invalid import ID "{request.id}": expected "namespace/name" with both non-empty'
            )
        live = self._cluster().get(rs.kind, namespace, name)
        if live is None:
            raise ProviderError(f"Cannot import non-existent remote object: {request.id}")
        state = schema.normalize(rs.block, objects.from_object(rs, live, None))
        for name in objects.LOCAL & set(rs.block.attributes):
            default = rs.block.attributes[name].default
            if state[name] is None and default is not None:
                state[name] = default  # Terraform-only settings: assume the default
        return pb.ImportResourceState.Response(
            imported_resources=[
                pb.ImportResourceState.ImportedResource(
                    type_name=request.type_name, state=self._pack(state, rs.cty_type)
                )
            ]
        )

    def ReadDataSource(self, request: Any, context: Any) -> Any:
        return pb.ReadDataSource.Response(
            diagnostics=[_error(f"the test provider has no data source {request.type_name}")]
        )

    # -- kubernetes_labels: labels patched onto an object Terraform does not own --

    def _target(self, value: dict[str, Any]) -> tuple[str, str | None, str]:
        kind = value["kind"]
        if kind not in KINDS:
            raise ProviderError(f'no matches for kind "{kind}" in version "{value["api_version"]}"')
        meta = value["metadata"][0]
        namespace = (meta.get("namespace") or "default") if KINDS[kind][2] else None
        return kind, namespace, meta["name"]

    def _read_labels(self, current: dict[str, Any]) -> tuple[Any, list[Any]]:
        kind, namespace, name = self._target(current)
        live = self._cluster().get(kind, namespace, name)
        if live is None:
            return current, [
                _warning(
                    "Resource deleted",
                    f'The underlying resource "{name}" has been deleted. You should recreate '
                    "the underlying resource, or remove it from your configuration.",
                )
            ]
        labels = live.get("metadata", {}).get("labels") or {}
        new = dict(current)
        new["labels"] = {k: labels[k] for k in current.get("labels") or {} if k in labels}
        return new, []

    def _apply_labels(self, prior: Any, planned: Any) -> Any:
        store = self._cluster()
        value = planned if planned is not None else prior
        kind, namespace, name = self._target(value)
        with store.session() as state:
            target = store.find(state, kind, namespace, name)
            if target is None:
                if planned is None:
                    return None
                raise ProviderError(f'The resource "{name}" does not exist')
            live = copy.deepcopy(target)
            labels = live["metadata"].setdefault("labels", {})
            for key in (prior or {}).get("labels") or {}:
                labels.pop(key, None)
            labels.update((planned or {}).get("labels") or {})
            store.replace_in(state, live)
        if planned is None:
            return None
        new = dict(_known(planned))
        meta = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
        api_version = value["api_version"]
        new["id"] = f"apiVersion={api_version},kind={kind}," + ",".join(
            f"{k}={v}" for k, v in meta.items()
        )
        return new


def _framework_problems(type_name: str, config: Any) -> list[str]:
    """What the Plugin Framework ports reject at plan (CHANGELOG 3.3.0-3.5.0)."""
    problems: list[str] = []
    if not isinstance(config, dict):
        return problems
    for meta in config.get("metadata") or []:
        if not isinstance(meta, dict):
            continue
        for field in ("labels", "annotations"):
            values = meta.get(field)
            if isinstance(values, dict):
                for key, value in values.items():
                    if value is None:
                        problems.append(
                            f"metadata.0.{field}: null value for key {key!r}; omit the "
                            "entry or provide a string value"
                        )
        if (
            type_name == "kubernetes_role_v1"
            and meta.get("name") not in (None, UNKNOWN)
            and meta.get("generate_name") not in (None, UNKNOWN)
        ):
            problems.append("metadata.0: name and generate_name cannot be set together")
    return problems


def _attribute_path(path: tuple[Any, ...]) -> Any:
    steps = []
    for step in path:
        if isinstance(step, int):
            steps.append(pb.AttributePath.Step(element_key_int=step))
        else:
            steps.append(pb.AttributePath.Step(attribute_name=step))
    return pb.AttributePath(steps=steps)
