#!/bin/sh
# Sweep throughput: the same runs trained one at a time on one thread
# (--cores 1 --jobs 1) and by the scheduler on every core, alternately
# REPEAT times (default 2, as a shared machine's load drifts); prints the
# aggregate training tokens/s of each pair and their ratio.
#   bench/bench_sweep.sh [PRESET]    (default bench/sweep6.json)
set -eu
BIN=${BIN:-./scalelab}
PRESET=${1:-bench/sweep6.json}
REPEAT=${REPEAT:-2}
tmp=$(mktemp -d /tmp/scalelab-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
timed() { # name, args...: "wall_seconds cpu_seconds" of scalelab run
    name=$1; shift
    rm -rf "$tmp/$name"
    t0=$(date +%s.%N)
    /usr/bin/time -f %U -o "$tmp/cpu" $BIN run "$PRESET" --runs "$tmp/$name" --quiet "$@"
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $(cat "$tmp/cpu")"
}
i=1
while [ $i -le "$REPEAT" ]; do
    serial=$(timed serial --cores 1 --jobs 1)
    parallel=$(timed parallel)
    store=$(ls -d "$tmp"/serial/*)
    tok=$($BIN export "$store" | awk -F, 'NR > 1 { t += $17 } END { printf "%.0f", t }')
    # user CPU seconds too: on a shared machine the wall ratio measures the
    # load, while tokens per CPU second show whether runs slow each other down
    awk -v tok="$tok" -v s="${serial% *}" -v sc="${serial#* }" -v p="${parallel% *}" \
        -v pc="${parallel#* }" -v n="$(nproc)" -v i="$i" 'BEGIN {
        printf "pair %d: one at a time, one thread %6.1f s %7.0f tok/s (%7.0f per CPU s); scheduler on %d cores %6.1f s %7.0f tok/s (%7.0f per CPU s); ratio %.2fx\n",
            i, s, tok / s, tok / sc, n, p, tok / p, tok / pc, s / p
    }'
    i=$((i + 1))
done
