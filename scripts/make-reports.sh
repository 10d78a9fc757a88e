#!/usr/bin/env bash
# Regenerates reports/: the full results, charts and report.md of every bundled
# scenario, and a concurrency sweep of the incident. Usage: scripts/make-reports.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-reports}"
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-target}/release/ratesim"
for scenario in scenarios/*.toml; do
  name=$(basename "$scenario" .toml)
  rm -rf "${out:?}/$name"
  "$bin" run "$scenario" --out "$out/$name" --format markdown > /dev/null
  echo "$out/$name"
done
rm -rf "${out:?}/ci-300x10-concurrency-sweep"
"$bin" sweep scenarios/ci-300x10.toml --set workload.concurrency=1,2,5,10,20,50 \
  --out "$out/ci-300x10-concurrency-sweep"
