#!/usr/bin/env bash
# Idempotent setup: a virtualenv with netfence installed (editable, with the dev
# tools) and the pinned cdktf CLI in node_modules. Re-runs only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi

want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.netfence-stamp 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  echo "$want" > .venv/.netfence-stamp
fi

if command -v npm >/dev/null 2>&1; then
  lock=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ ! -d node_modules ] || [ "$(cat node_modules/.netfence-stamp 2>/dev/null)" != "$lock" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$lock" > node_modules/.netfence-stamp
  fi
else
  echo "bootstrap: npm not found; 'npx cdktf' tests will be skipped" >&2
fi
