#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the tests need
# (a real OCI registry for the end-to-end registry tests, Python's venv for the SDK module),
# then the whole workspace's tests including those a plain `cargo test` lists as ignored
# (each names what it needs), and the SDK runtime module's tests.
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

# The engine's GraphQL schema the mock is checked against (dagger/dagger v0.21.8).
export DAGGER_SCHEMA="${DAGGER_SCHEMA:-$(cd .. && pwd)/shared/dagger/schema.graphqls}"

echo "== cargo test (workspace: libraries, binaries, tests, examples; ignored tests included)"
cargo test --workspace --lib --bins --tests --examples --locked -- --include-ignored
echo "== benchmarks, each scenario once, untimed"
cargo test --workspace --benches --locked
cargo test --workspace --doc --locked

if [ -x sdk/test.sh ]; then
  echo "== SDK runtime module tests"
  bash sdk/test.sh
fi
