# One entry point. `make run` synthesizes and verifies the example stacks;
# `make test` runs the whole suite. Both bootstrap what they need first.
# `make test-cdktn` runs the same suite on CDK Terrain (.venv-cdktn, NETFENCE_CDK=cdktn).
.PHONY: run test test-cdktn bootstrap bootstrap-cdktn lint bench

bootstrap:
	@scripts/bootstrap.sh

bootstrap-cdktn:
	@scripts/bootstrap.sh cdktn

run: bootstrap
	@.venv/bin/python -m stacks
	@.venv/bin/netfence verify cdktf.out

test: bootstrap
	@.venv/bin/python -m pytest -q

test-cdktn: bootstrap-cdktn
	@NETFENCE_CDK=cdktn .venv-cdktn/bin/python -m pytest -q

lint: bootstrap
	@.venv/bin/ruff check constructs_lib stacks tests bench
	@.venv/bin/mypy

bench: bootstrap
	@.venv/bin/python bench/synth_bench.py
	@.venv/bin/python bench/reach_bench.py
