"""Synthesize an app: each netfence stack's directory is written aside, completed, swapped in.

Every stack that holds netfence constructs gets a ``StagedSynthesizer``: it
runs cdktf's own synthesizer into a staging directory, merges netfence's
resources into that cdk.tf.json, writes manifests.yaml beside it, and
publishes the whole directory at once (``stackdir``). Plain ``app.synth()``
and ``synth(app)`` take that same path; ``synth(app)`` adds the outdir lock
around the whole app and a summary per stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import jsii

from constructs_lib._bulk import bulk_allocation
from constructs_lib.constructs.cdk import default_cdk
from constructs_lib.constructs.stackdir import (
    js_errno_reason,
    outdir_lock,
    output_errors,
    publish,
    remove_tree,
    staging_dir,
)
from constructs_lib.emitters.manifests import write_manifests
from constructs_lib.emitters.terraform import holds_float, write_json
from constructs_lib.errors import OutputError

if TYPE_CHECKING:
    from constructs_lib.constructs.namespace import StackState

App = Any  # a cdktf or cdktn App (see constructs_lib.constructs.cdk)

MANIFESTS = "manifests.yaml"
ARTIFACT = "cdk.tf.json"
_KEPT = "the previous synthesis is left in place"

# A Python exception raised inside a jsii callback reaches the caller of
# app.synth() as a RuntimeError carrying only its text; the original is
# kept here so synth(app) can raise it as it was.
_failures: list[BaseException] = []


def _deep_merge(target: dict[str, Any], fragment: dict[str, Any]) -> None:
    """cdktf's merge of element fragments: objects recursively, lists appended."""
    for key, value in fragment.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        else:
            target[key] = value


def _merge_into_artifact(
    path: Path, fragment: dict[str, Any], metadata: dict[str, Any], *, floats: bool
) -> None:
    """Add netfence's resources to what cdktf wrote, as its own merge would have.

    Handing thousands of resources to cdktf through jsii costs seconds of
    marshalling; merging them here in Python costs a JSON dump. The content
    equals what cdktf renders through the element (a test holds both to that).
    ``floats``: whether netfence's part holds a float (an override's value);
    cdktf's part is checked as it is read.
    """
    seen: list[str] = []

    def number(text: str) -> float:
        seen.append(text)
        return float(text)

    doc = json.loads(path.read_text(encoding="utf-8"), parse_float=number, parse_constant=number)
    _deep_merge(doc, fragment)
    _deep_merge(doc.setdefault("//", {}).setdefault("metadata", {}), metadata)
    with path.open("w", encoding="utf-8") as handle:
        write_json(doc, handle, floats=floats or bool(seen))


class _StagingSession:
    """The session cdktf's synthesizer sees: the app's manifest, a private outdir."""

    def __init__(self, outdir: Path, session: Any) -> None:
        self._outdir = str(outdir)
        self._manifest = session.manifest
        self._skip_validation: bool | None = session.skip_validation

    @property
    def outdir(self) -> str:
        return self._outdir

    @property
    def manifest(self) -> Any:
        return self._manifest

    @property
    def skip_validation(self) -> bool | None:
        return self._skip_validation


class _StagedSynthesizer:
    """Writes ``stacks/<stack>`` aside and swaps it in complete (see ``stackdir``).

    Made per CDK by ``staged_synthesizer``: jsii needs the interfaces of the
    library the app runs on.
    """

    _session_class: type[_StagingSession] = _StagingSession

    def __init__(self, stack_id: str, inner: Any, state: StackState) -> None:
        self._stack_id = stack_id
        self._inner = inner
        self._state = state

    def synthesize(self, session: Any) -> None:
        try:
            self._synthesize(session)
        except BaseException as exc:
            _failures.append(exc)
            raise

    def _synthesize(self, session: Any) -> None:
        stack_dir = Path(session.outdir) / "stacks" / self._stack_id
        with outdir_lock(session.outdir):
            with output_errors(stack_dir, f"cannot start a new synthesis ({_KEPT})"):
                staged = staging_dir(stack_dir)
            try:
                with output_errors(stack_dir, f"cannot write the new synthesis ({_KEPT})"):
                    (staged / "stacks").mkdir()
                    self._cdktf_synthesize(staged, session, stack_dir)
                    written = staged / "stacks" / self._stack_id
                    compiled = self._state.compiled()
                    _merge_into_artifact(
                        written / ARTIFACT,
                        self._state.render(),
                        self._state.metadata(),
                        floats=any(holds_float(o.value) for o in compiled.overrides),
                    )
                    with (written / MANIFESTS).open("w", encoding="utf-8") as handle:
                        write_manifests(compiled, handle)
                with output_errors(stack_dir, "cannot switch to the new synthesis"):
                    publish(stack_dir, written)
            finally:
                remove_tree(staged)

    def _cdktf_synthesize(self, staged: Path, session: Any, stack_dir: Path) -> None:
        """cdktf's own synthesizer, with netfence's element silent (merged in Python instead)."""
        before, self._state.deferred = self._state.deferred, True
        try:
            self._inner.synthesize(self._session_class(staged, session))
        except RuntimeError as exc:
            reason = js_errno_reason(exc)
            if reason is None:
                raise
            raise OutputError(
                str(stack_dir), f"cannot write the new synthesis ({_KEPT}): {reason}"
            ) from None
        finally:
            self._state.deferred = before


_SYNTHESIZERS: dict[str, type[_StagedSynthesizer]] = {}


def staged_synthesizer(cdk: ModuleType) -> type[_StagedSynthesizer]:
    """The staged synthesizer class for ``cdk`` (the cdktf or cdktn module), made once."""
    made = _SYNTHESIZERS.get(cdk.__name__)
    if made is None:
        session = jsii.implements(cdk.ISynthesisSession)(
            type("StagingSession", (_StagingSession,), {})
        )
        made = jsii.implements(cdk.IStackSynthesizer)(
            type("StagedSynthesizer", (_StagedSynthesizer,), {"_session_class": session})
        )
        _SYNTHESIZERS[cdk.__name__] = made
    return made


def create_app(**props: Any) -> App:
    """``App(**props)`` of the CDK in use (``default_cdk``); a file error creating its
    outdir comes out as an OutputError.

    cdktf (and cdktn) create ``<outdir>/stacks`` when the App is made, before ``synth``.
    """
    try:
        return default_cdk().App(**props)
    except RuntimeError as exc:
        reason = js_errno_reason(exc)
        if reason is None:
            raise
        outdir = props.get("outdir") or os.environ.get("CDKTF_OUTDIR") or "cdktf.out"
        raise OutputError(str(outdir), f"cannot create the output directory: {reason}") from None


@dataclass(frozen=True)
class SynthSummary:
    stack: str
    directory: Path
    namespaces: int
    policies: int
    flows: int

    def line(self) -> str:
        return (
            f"{self.stack}: {self.namespaces} namespaces, {self.policies} policies, "
            f"{self.flows} flows -> {self.directory}"
        )


def synth(app: App) -> list[SynthSummary]:
    """``app.synth()`` under the outdir lock, with a summary per netfence stack.

    What ``python -m stacks`` calls. Errors come out as netfence errors
    (``InvalidIntentError``, ``OutputError``), not as jsii RuntimeErrors.
    """
    # Frozen afterwards: the process usually ends here, and the collections
    # at interpreter exit would walk the app's objects for seconds more.
    with bulk_allocation(freeze=True):
        return _synth(app)


def _synth(app: App) -> list[SynthSummary]:
    from constructs_lib.constructs.namespace import stack_states

    states = stack_states(app)
    for _, state in states:
        state.render()  # raises on a bad override before anything is written
        # cdktf's prepareStack() resolves every element once before any
        # synthesizer runs; silent, netfence's element costs nothing there.
        state.deferred = True
    with outdir_lock(app.outdir):
        del _failures[:]
        try:
            app.synth()
        except RuntimeError as exc:
            if _failures:
                raise _failures[-1] from None
            reason = js_errno_reason(exc)
            if reason is None:
                raise
            raise OutputError(app.outdir, f"cdktf cannot write manifest.json: {reason}") from None
        finally:
            del _failures[:]
            for _, state in states:
                state.deferred = False
    return [
        SynthSummary(
            name,
            Path(app.outdir) / "stacks" / name,
            len(state.compiled().namespaces),
            len(state.compiled().policies),
            len(state.topology.flows),
        )
        for name, state in states
    ]
