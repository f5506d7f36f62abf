#!/usr/bin/env bash
# Module build cost, side by side in one run (BENCHMARKS.md, "Module build cost"):
#  - ours: the module binary exactly as the SDK runtime builds it (sdk/, `dagger call`'s first
#    step, from [package.metadata.dagger] in Cargo.toml): cargo build --profile module --locked
#    -p blumeops --bin blumeops-module --no-default-features
#  - ours-release: the same binary in the release profile (what the SDK built before
#    [profile.module]), for comparison;
#  - minimal: benches/module_build/minimal, a binary on dagger-sdk alone that connects to the
#    session and runs one query, in the release profile with the same locked versions.
# Each gets a clean target directory of its own; all are built one after the other on the same
# machine, so the CPU time ratio compares like with like. Then: crate counts (cargo tree -e
# normal,build), binary sizes, and a rebuild of ours after editing a pipeline file.
# The last line reads `cpu ratio <R>`: ours (module profile) / minimal (release); target <= 0.70.
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
    cargo build --locked --quiet "$@")
  read -r wall user sys <"$work/time-$name"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
  echo "$cpu" >"$work/cpu-$name"
  printf '%-12s clean build: wall %6.1f s  cpu %6.1f s\n' "$name" "$wall" "$cpu"
}

module_args=(-p blumeops --bin blumeops-module --no-default-features)
clean_build ours "$root" -- --profile module "${module_args[@]}"
clean_build ours-release "$root" -- --release "${module_args[@]}"
clean_build minimal "$root/benches/module_build/minimal" -- --release

ours_bin="$work/target-ours/module/blumeops-module"
release_bin="$work/target-ours-release/release/blumeops-module"
minimal_bin="$work/target-minimal/release/minimal-dagger-sdk"
printf 'binary size: ours %s bytes, ours-release %s bytes, minimal %s bytes\n' \
  "$(stat -c %s "$ours_bin")" "$(stat -c %s "$release_bin")" "$(stat -c %s "$minimal_bin")"
printf 'ours-release / minimal cpu: %s\n' \
  "$(awk -v a="$(cat "$work/cpu-ours-release")" -v b="$(cat "$work/cpu-minimal")" 'BEGIN { printf "%.3f", a / b }')"

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
  cargo build --profile module --locked --quiet "${module_args[@]}"
cp "$work/pipeline.bak" "$pipeline"
read -r wall user sys <"$work/time-rebuild"
printf 'rebuild after editing %s: wall %.1f s  cpu %.1f s (target < 3 s)\n' "$pipeline" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"

echo "cpu ratio $(awk -v a="$(cat "$work/cpu-ours")" -v b="$(cat "$work/cpu-minimal")" 'BEGIN { printf "%.3f", a / b }')"
