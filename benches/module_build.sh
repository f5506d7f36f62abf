#!/usr/bin/env bash
# Module build cost, side by side in one run (BENCHMARKS.md, "Module build cost"):
#  - ours: the module binary exactly as the SDK runtime builds it (sdk/, `dagger call`'s first
#    step): cargo build --release --locked -p blumeops --no-default-features --bin blumeops-module
#  - minimal: benches/module_build/minimal, a binary on dagger-sdk alone that connects to the
#    session and runs one query, with the same release profile and the same locked versions.
# Each gets a clean target directory of its own; both are built one after the other on the same
# machine, so the CPU time ratio compares like with like. Then: crate counts (cargo tree -e
# normal,build), binary sizes, and a rebuild of ours after editing a pipeline file.
# The last line reads `cpu ratio <R>` (ours / minimal).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Fetch first, so that downloads never count as build time.
cargo fetch --locked >/dev/null
(cd benches/module_build/minimal && cargo fetch --locked >/dev/null)

# clean_build NAME DIR -- CARGO ARGS...: prints "NAME wall <s> cpu <s>" and stores the CPU time.
clean_build() {
  local name=$1 dir=$2; shift 3
  local target="$work/target-$name"
  (cd "$dir" && CARGO_TARGET_DIR="$target" /usr/bin/time -f "%e %U %S" -o "$work/time-$name" \
    cargo build --release --locked --quiet "$@")
  read -r wall user sys <"$work/time-$name"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
  echo "$cpu" >"$work/cpu-$name"
  printf '%-8s clean build: wall %6.1f s  cpu %6.1f s\n' "$name" "$wall" "$cpu"
}

clean_build ours "$root" -- -p blumeops --no-default-features --bin blumeops-module
clean_build minimal "$root/benches/module_build/minimal" --

ours_bin="$work/target-ours/release/blumeops-module"
minimal_bin="$work/target-minimal/release/minimal-dagger-sdk"
printf 'binary size: ours %s bytes, minimal %s bytes\n' "$(stat -c %s "$ours_bin")" "$(stat -c %s "$minimal_bin")"

count() { sort -u | grep -v '^$' | wc -l; }
ours_crates=$(cargo tree --locked -e normal,build --prefix none -p blumeops --no-default-features 2>/dev/null | sed 's/ (\*)$//; s/ (proc-macro)$//' | count)
sdk_crates=$(cargo tree --locked -e normal,build --prefix none -p dagger-sdk 2>/dev/null | sed 's/ (\*)$//; s/ (proc-macro)$//' | count)
printf 'crates (cargo tree -e normal,build): ours %s, dagger-sdk %s, ratio %s (target <= 1.12)\n' \
  "$ours_crates" "$sdk_crates" "$(awk -v a="$ours_crates" -v b="$sdk_crates" 'BEGIN { printf "%.3f", a / b }')"

# A rebuild after editing a pipeline file (what a changed module source costs on a warm cache).
pipeline=src/pipeline/containers/navidrome.rs
cp "$pipeline" "$work/pipeline.bak"
trap 'cp "$work/pipeline.bak" "$root/$pipeline"; rm -rf "$work"' EXIT
echo "// edited by benches/module_build.sh" >>"$pipeline"
CARGO_TARGET_DIR="$work/target-ours" /usr/bin/time -f "%e %U %S" -o "$work/time-rebuild" \
  cargo build --release --locked --quiet -p blumeops --no-default-features --bin blumeops-module
cp "$work/pipeline.bak" "$pipeline"
read -r wall user sys <"$work/time-rebuild"
printf 'rebuild after editing %s: wall %.1f s  cpu %.1f s (target < 3 s)\n' "$pipeline" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"

echo "cpu ratio $(awk -v a="$(cat "$work/cpu-ours")" -v b="$(cat "$work/cpu-minimal")" 'BEGIN { printf "%.3f", a / b }')"
