"""Fuzz: mutated artifacts of every input kind through every command (see tests/fuzz_inputs.py).

Derandomized and short, so the suite stays fast and a failure reproduces;
bench/fuzz_bench.py runs the same property for longer with fresh seeds.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.fuzz_inputs import Case, bases, check, runner

_ROOT = Path(tempfile.mkdtemp(prefix="netfence-fuzz-"))  # made at collection: parametrized
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
CASES = {case.name: case for case in bases(_ROOT)}
EXAMPLES = {"synth": 12, "manifests": 15, "list": 12, "inventory": 15, "plan": 12}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mutated_input_is_read_or_refused_never_a_crash(name: str) -> None:
    case: Case = CASES[name]

    runner(case, _ROOT, EXAMPLES.get(name, 30), derandomize=True)()


def test_unmutated_bases_are_read() -> None:
    for case in CASES.values():
        check(case, case.dump(case.base), _ROOT, valid=True)
