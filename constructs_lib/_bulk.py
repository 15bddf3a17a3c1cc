"""Pause Python's cyclic garbage collector while netfence builds large acyclic data.

Loading a 10,000-workload artifact or synthesizing 1,000 namespaces makes
millions of fresh dicts, lists and tuples with no reference cycles. Each
full collection walks all of them again, which cost a third to a half of
the run. Refcounting frees them as usual; the collector resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside; ``freeze``: what survives is left out of later ones."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if collecting:
            gc.enable()
