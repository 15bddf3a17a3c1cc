"""Helpers for a project's own tests: assert what its synthesized stacks allow.

They read the artifact on disk, like ``netfence verify`` (never the objects
the compiler made), so a test proves what Terraform will apply::

    synth(main.build(App(outdir=str(tmp_path))))
    assert_exact(tmp_path / "stacks" / "prod")
    assert connections(tmp_path / "stacks" / "prod", "shop-web/api", "shop-data/db") == "TCP 5432"
"""

from __future__ import annotations

import io
from pathlib import Path

from constructs_lib.verifier.verify import Verification

__all__ = ["assert_exact", "connections"]


def assert_exact(path: str | Path) -> Verification:
    """Fail with verify's findings unless ``path`` allows exactly its declared flows.

    path: a stack directory, its cdk.tf.json, or a whole cdktf.out.
    """
    from constructs_lib.reports.text import write_verification
    from constructs_lib.verifier.verify import verify_stack

    result = verify_stack(path)
    if not result.ok:
        report = io.StringIO()
        write_verification(result, report)
        raise AssertionError(f"netfence verify {path}:\n{report.getvalue()}")
    return result


def connections(stack: str | Path, source: str, destination: str) -> str:
    """What the stack's policies allow from ``source`` to ``destination``, "" for nothing.

    Endpoints are named as ``netfence map`` and ``reach`` name them:
    ``namespace/workload`` or ``external/name``. A name the stack does not
    declare fails the test instead of reading as "nothing allowed".
    """
    from constructs_lib.loaders import find_stacks, intent_from_artifact, load_policies, read_json
    from constructs_lib.verifier.reach import Reachability

    files = find_stacks(stack)
    if len(files) != 1:
        raise AssertionError(f"{stack} holds {len(files)} stacks; name one stack directory")
    file = files[0]
    record = intent_from_artifact(read_json(file), str(file))
    reach = Reachability(load_policies(str(file)), record.inventory())
    for name in (source, destination):
        if name not in reach.endpoints:
            raise AssertionError(
                f"{name!r} is not an endpoint of {file}; it declares: {', '.join(reach.endpoints)}"
            )
    conns = reach.connection_set(source, destination)
    return "" if conns.is_empty() else str(conns)
