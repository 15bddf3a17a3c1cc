"""Brownfield adoption: intent code from what already runs.

The pipeline is one way, like the rest of netfence::

    observed flows (flows.py: one reader per format)
        -> an intent description (intent.py: namespaces, workloads, flows, endpoints)
        -> main.py, a cdktf app a person keeps (codegen.py)
        -> synthesized artifact -> the verifier proves it (learn.py)

``codegen`` only knows the intent description, never where it came from, so
``netfence migrate`` (existing policies) reuses it as is. Nothing here imports
cdktf: the generated app does, in its own process.
"""

from __future__ import annotations
