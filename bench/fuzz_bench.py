"""Long fuzz run: the property of tests/test_fuzz.py with fresh seeds and many more examples.

    PYTHONPATH=$PWD .venv/bin/python bench/fuzz_bench.py [--examples 500] [--kinds synth,plan]

Prints, per input kind, how many mutated inputs ran, how many were refused
(exit 2) and the slowest single command; exits 1 on the first input that
breaks the property (and prints it), so a failure can become a table test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from tests.fuzz_inputs import bases, runner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--kinds", default="")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="netfence-fuzz-bench-"))
    cases = bases(root)
    wanted = set(filter(None, args.kinds.split(",")))
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average)")
    for case in cases:
        if wanted and case.name not in wanted:
            continue
        count = [0]
        start = time.monotonic()
        try:
            runner(case, root, args.examples, derandomize=False, count=count)()
        except AssertionError as exc:
            print(f"{case.name}: PROPERTY BROKEN after {count[0]} inputs\n{exc}")
            return 1
        took = time.monotonic() - start
        each = took / max(count[0], 1) * 1000
        print(f"{case.name:10} {count[0]:6} inputs  {took:7.1f} s  ({each:.0f} ms each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
