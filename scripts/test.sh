#!/usr/bin/env bash
# The project's test command: what CI runs (.ci/run calls exactly this) and what the README shows.
# Formatting, lints, unit/snapshot/integration/end-to-end tests, then the real-code self-check
# (pinned PyPI wheels rewritten and re-compiled; it installs Ruff into a local venv with pip).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "==> test venv (.venv-test): check-jsonschema for the SARIF, action and workflow schema tests"
python3 -m venv .venv-test
.venv-test/bin/pip install --quiet --disable-pip-version-check "check-jsonschema==0.39.0"
export ASYNCMOD_CHECK_JSONSCHEMA="$PWD/.venv-test/bin/check-jsonschema"
echo "==> cargo test"
cargo test --locked
echo "==> real-code self-check"
scripts/realcode.sh
