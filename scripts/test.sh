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
echo "==> tools the tests need"
# With ASYNCMOD_REQUIRE_TOOLS=1 a test whose tool is missing fails instead of skipping: here, as in
# CI, every check must run. This script provides each tool: python3 (end-to-end tests, the fuzz
# test's CPython judge), the test venv below (ASYNCMOD_TEST_PYTHON, ASYNCMOD_CHECK_JSONSCHEMA) and,
# as root, setpriv or runuser (util-linux) for the permission tests, which drop root's privileges.
export ASYNCMOD_REQUIRE_TOOLS=1
if ! command -v python3 >/dev/null; then
  echo "error: python3 (3.11 or newer, with venv and pip) is not on PATH" >&2
  exit 1
fi
if [[ "$(id -u)" == 0 ]] && ! command -v setpriv >/dev/null && ! command -v runuser >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq util-linux
fi
echo "==> test venv (.venv-test): aiohttp, requests, httpx (tests/e2e_http.rs); check-jsonschema (schema tests)"
if [[ ! -x .venv-test/bin/python ]]; then
  python3 -m venv .venv-test
fi
.venv-test/bin/python -m pip install --quiet --disable-pip-version-check -r tests/e2e_http/requirements.txt
.venv-test/bin/python -m pip install --quiet --disable-pip-version-check "check-jsonschema==0.39.0"
export ASYNCMOD_TEST_PYTHON="$PWD/.venv-test/bin/python"
export ASYNCMOD_CHECK_JSONSCHEMA="$PWD/.venv-test/bin/check-jsonschema"
echo "==> cargo test"
cargo test --locked
echo "==> real-code self-check"
scripts/realcode.sh
