# One entry point. `make run` synthesizes and verifies the example stacks;
# `make test` runs the whole suite. Both bootstrap what they need first.
.PHONY: run test bootstrap lint bench

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	@.venv/bin/python -m stacks
	@.venv/bin/netfence verify cdktf.out

test: bootstrap
	@.venv/bin/python -m pytest -q

lint: bootstrap
	@.venv/bin/ruff check constructs_lib stacks tests bench
	@.venv/bin/mypy

bench: bootstrap
	@.venv/bin/python bench/synth_bench.py
	@.venv/bin/python bench/reach_bench.py
