#!/bin/bash
# The compact stores reproduce.sh keeps under reproduction/runs/PRESET (no
# checkpoints) refit to the same numbers without training: the tiny preset is
# trained once into A, its compact store is copied alone into B's reproduction/,
# and a run with an empty runs/ must refit it, train nothing and write the same
# fits and sample-efficiency rows.
set -euo pipefail
cd "$(dirname "$0")/.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
RUNS=$t/runsA scripts/reproduce.sh --tiny --out "$t/A" >"$t/a.log" 2>&1 ||
    { cat "$t/a.log" >&2; echo "reproduce_compact: the tiny pipeline failed" >&2; exit 1; }
c=$t/A/reproduction/runs/tiny
[ -f "$c/sweep.json" ] || { echo "reproduce_compact: no compact store at $c" >&2; exit 1; }
if find "$c" -name 'checkpoint*' -o -name .lock | grep -q .; then
    echo "reproduce_compact: the compact store holds checkpoints or locks" >&2; exit 1
fi
mkdir -p "$t/B/reproduction/runs" "$t/runsB"
cp -r "$c" "$t/B/reproduction/runs/tiny"
cp docs/REPRODUCTION.md "$t/B/REPRODUCTION.md"
RUNS=$t/runsB scripts/reproduce.sh --out "$t/B" tiny >"$t/b.log" 2>&1 ||
    { cat "$t/b.log" >&2; echo "reproduce_compact: the refit from the compact store failed" >&2; exit 1; }
grep -q "refitted from its compact store" "$t/b.log" ||
    { cat "$t/b.log" >&2; echo "reproduce_compact: the compact store was not used" >&2; exit 1; }
if [ -n "$(ls -A "$t/runsB")" ]; then
    echo "reproduce_compact: something was trained into runs/" >&2; exit 1
fi
for f in fits.csv sample-efficiency.csv; do
    cmp -s "$t/A/reproduction/$f" "$t/B/reproduction/$f" ||
        { diff "$t/A/reproduction/$f" "$t/B/reproduction/$f" >&2 || true
          echo "reproduce_compact: $f differs after the refit" >&2; exit 1; }
done
echo "reproduce_compact: the compact store refits to the same fits, nothing trained"
