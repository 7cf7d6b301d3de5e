#!/usr/bin/env bash
# Write requirements.lock (every extra and the dev group) and requirements-bench.lock (the
# bench group, held to the same versions) from pyproject.toml: exact versions with the
# hashes of every platform's files, for every Python the metadata allows. Pins already in
# the locks are kept unless they no longer fit; `scripts/lock.sh --upgrade` takes the
# newest versions the ranges allow (`make upgrade` does that and runs every check).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv-uv/bin/uv}
common=(--universal --generate-hashes --python-version 3.11 --quiet --no-header)
"$UV" pip compile pyproject.toml --all-extras --group dev "${common[@]}" "$@" \
  -o requirements.lock
"$UV" pip compile pyproject.toml --all-extras --group dev --group bench "${common[@]}" "$@" \
  -c requirements.lock -o requirements-bench.lock
