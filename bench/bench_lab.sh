#!/bin/sh
# The lab's cost to training: the same sweep headless (scalelab run) and in the
# lab (a detached 200x60 tmux session), ROUNDS times each, alternating; prints
# each sweep's wall time from launch to its last run done, the aggregate
# training tokens/s, and the lab's share of the headless rate.
#   bench/bench_lab.sh [PRESET] [ROUNDS]     (default bench/lab6.json, 2)
set -eu
BIN=${BIN:-./scalelab}
PRESET=${1:-bench/lab6.json}
ROUNDS=${2:-2}
tmp=$(mktemp -d /tmp/scalelab-benchlab-XXXXXX)
sock="scalelab-benchlab-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
now() { date +%s.%N; }
tokens() { # store: the tokens of every run's last metric row
    $BIN export "$1" | awk -F, 'NR > 1 { t += $17 } END { printf "%.0f", t }'
}
all_done() { # store: every run done
    [ -n "$(ls "$1"/*/status.json 2>/dev/null)" ] || return 1
    ! grep -L '"done"' "$1"/*/status.json | grep -q .
}
headless() {
    t0=$(now)
    $BIN run "$PRESET" --runs "$tmp/h$1" --quiet
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
lab() {
    t0=$(now)
    tmux -L "$sock" -f /dev/null new-session -d -s "lab$1" -x 200 -y 60 \
        "$BIN lab --preset $PRESET --runs $tmp/l$1 2>$tmp/l$1.err"
    store=""
    while [ -z "$store" ] || ! all_done "$store"; do
        sleep 0.2
        store=$(ls -d "$tmp"/l"$1"/*/ 2>/dev/null | head -1)
    done
    t1=$(now)
    # CPU seconds of the lab's own threads (UI, fitter) against the whole process
    pid=$(tmux -L "$sock" display-message -p -t "lab$1" '#{pane_pid}')
    pid=$(cat /proc/"$pid"/task/"$pid"/children 2>/dev/null | awk '{print $1}')
    [ -n "$pid" ] || pid=$(tmux -L "$sock" display-message -p -t "lab$1" '#{pane_pid}')
    for t in /proc/"$pid"/task/*; do
        printf '%s %s\n' "$(cat "$t"/comm)" "$(awk '{print $14 + $15}' "$t"/stat)"
    done | awk -v all="$(awk '{print $14 + $15}' /proc/"$pid"/stat)" \
        '$1 == "sl-ui" || $1 == "sl-fitter" { own[$1] = $2 }
         END { printf "  lab threads: UI %.2f s, fitter %.2f s of %.1f s CPU (%.2f%%)\n",
               own["sl-ui"] / 100, own["sl-fitter"] / 100, all / 100,
               100 * (own["sl-ui"] + own["sl-fitter"]) / all }' >&2
    tmux -L "$sock" send-keys -t "lab$1" q
    while tmux -L "$sock" has-session -t "lab$1" 2>/dev/null; do sleep 0.2; done
    echo "$t1 - $t0" | bc -l
}
i=1
while [ "$i" -le "$ROUNDS" ]; do
    h=$(headless "$i")
    l=$(lab "$i")
    tok=$(tokens "$(ls -d "$tmp"/h"$i"/*/ | head -1)")
    awk -v tok="$tok" -v h="$h" -v l="$l" -v r="$i" 'BEGIN {
        printf "round %d: headless %6.1f s %8.0f tok/s | lab %6.1f s %8.0f tok/s | lab/headless %.3f\n",
               r, h, tok / h, l, tok / l, h / l
    }'
    i=$((i + 1))
done
