#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the tests need
# (a real OCI registry for the end-to-end registry tests, Python's venv for the SDK module),
# then the Rust test suite and the SDK runtime module's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== cargo test (all features, all targets)"
cargo test --features testing --all-targets --locked
cargo test --features testing --doc --locked

if [ -x sdk/test.sh ]; then
  echo "== SDK runtime module tests"
  bash sdk/test.sh
fi
