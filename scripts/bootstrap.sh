#!/usr/bin/env bash
# Idempotent setup: a virtualenv with netfence installed (editable, with the dev
# tools) and the pinned cdktf and cdktn CLIs in node_modules. Re-runs only what
# changed.
#
#   scripts/bootstrap.sh          .venv        cdktf (the default CDK)
#   scripts/bootstrap.sh cdktn    .venv-cdktn  cdktn beside cdktf, for `make test-cdktn`
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
case "${1:-cdktf}" in
  cdktf) venv=.venv extras=dev ;;
  cdktn) venv=.venv-cdktn extras=dev-cdktn ;;
  *) echo "bootstrap: unknown environment '$1' (cdktf or cdktn)" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.netfence-stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
  echo "$want" > "$venv/.netfence-stamp"
fi

if command -v npm >/dev/null 2>&1; then
  lock=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ ! -d node_modules ] || [ "$(cat node_modules/.netfence-stamp 2>/dev/null)" != "$lock" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$lock" > node_modules/.netfence-stamp
  fi
else
  echo "bootstrap: npm not found; 'npx cdktf|cdktn' tests will be skipped" >&2
fi
