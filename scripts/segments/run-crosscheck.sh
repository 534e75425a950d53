#!/bin/sh
# Generates the smpplib cross-check corpus and runs the Swift cross-check test against it.
# Usage: scripts/segments/run-crosscheck.sh [package-dir]   (needs: pip install smpplib==2.2.4)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
package=${1:-$(cd "$here/../.." && pwd)}
out=${TMPDIR:-/tmp}/herald-segment-crosscheck.json
python3 "$here/crosscheck.py" "$out"
cd "$package"
HERALD_SEGMENT_CROSSCHECK="$out" swift test --filter SegmentCrossCheckTests
