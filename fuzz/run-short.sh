#!/usr/bin/env bash
# A short fuzz run for CI: builds every target and runs each for
# FUZZ_SECONDS (default 20) on its committed corpus and seeds. Any crash,
# timeout or out-of-memory fails the run; the input is left in
# fuzz/artifacts/<target>/. New inputs found go to a scratch directory, so
# the committed corpus is not changed.
#
# Needs the nightly toolchain (`rustup toolchain install nightly`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --version '^0.13' --locked
fi

echo "== building fuzz targets ($(cargo "+$toolchain" --version))"
cargo "+$toolchain" fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in $(cargo "+$toolchain" fuzz list); do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "$scratch/$target" "fuzz/corpus/$target" "fuzz/seeds/$target"
  log="$scratch/$target.log"
  # The first directory receives new inputs; the others are only read.
  if cargo "+$toolchain" fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    grep -E '^(Done|#[0-9]+.*DONE)' "$log" | tail -n 1 || true
  else
    echo "FAILED: $target"
    grep -E -A 30 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 60 || tail -n 40 "$log"
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
