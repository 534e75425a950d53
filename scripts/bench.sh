#!/usr/bin/env bash
# Builds herald-bench in release and runs every benchmark (see Benchmarks/README.md).
# Usage: scripts/bench.sh [repeats]   (default 1; the machine is noisy, rerun for ranges)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${1:-1}"
swift build -c release --product herald-bench
BENCH="$(swift build -c release --show-bin-path)/herald-bench"
SCRATCH="${HERALD_BENCH_DIR:-${TMPDIR:-/tmp}}"
echo "### $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
# Import: 100k and 1M rows, each import and each raw baseline in its own process (own peak RSS).
"$BENCH" import --rows 100000 --rows 1000000 --repeats "$REPEATS" --dir "$SCRATCH"
# Contact list queries on 1M contacts.
"$BENCH" query --contacts 1000000 --iterations 200 --database "$SCRATCH/herald-bench-query.sqlite" --explain
# Delivery engine: fan-out, dispatch throughput with the simulator, estimate.
"$BENCH" fanout --recipients 1000000 --dir "$SCRATCH"
"$BENCH" dispatch --recipients 200000 --dir "$SCRATCH"
"$BENCH" estimate --recipients 100000 --recipients 1000000 --dir "$SCRATCH"
