#!/bin/sh
# The scheduler's two orders on a preset (default quickstart), each in the lab
# in a tmux session at 200x60: the scouts (the two cheapest runs first, then
# the costliest first) and the costliest first from the start
# (SCALELAB_SCHED=lpt). For each: the seconds until the fits panel first shows
# the live L(N, S) exponent with its interval (verdict ok), and the seconds
# until every run is done; alternately REPEAT times (default 1), as a shared
# machine's load drifts (ORDERS=scouts: the scouts alone). Prints the load
# average before each.
#   bench/bench_order.sh [PRESET]
set -eu
BIN=${BIN:-$(pwd)/scalelab}
PRESET=${1:-quickstart}
REPEAT=${REPEAT:-1}
tmp=$(mktemp -d /tmp/scalelab-order-XXXXXX)
sock="scalelab-order-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
live='kaplan-ns live R2 [0-9.]+'
one() { # order (scouts|lpt): prints "first_live_s total_s"
    rm -rf "$tmp/runs"
    sched=""
    [ "$1" = lpt ] && sched="SCALELAB_SCHED=lpt"
    tmux -L "$sock" -f /dev/null new-session -d -s lab -x 200 -y 60 \
        "env LANG=C.UTF-8 $sched $BIN lab --preset $PRESET --runs $tmp/runs 2>$tmp/err"
    t0=$(date +%s.%N)
    first=""
    total=""
    while :; do
        sleep 1
        scr=$(tmux -L "$sock" capture-pane -p -t lab 2>/dev/null || true)
        now=$(date +%s.%N)
        if [ -z "$first" ] && printf '%s\n' "$scr" | grep -A1 -E "$live" | grep -qE 'alpha_N +[0-9.e+-]+ +\[[0-9]'; then
            first=$(echo "$now - $t0" | bc -l)
        fi
        # every run done: the store says so (the lab's status bar is shortened)
        n=$(ls "$tmp"/runs/*/*/config.json 2>/dev/null | wc -l)
        d=$(cat "$tmp"/runs/*/*/status.json 2>/dev/null | grep -c '"state":[[:space:]]*"done"' || true)
        if [ "$n" -gt 0 ] && [ "$n" = "$d" ]; then
            [ -z "$total" ] && total=$(echo "$now - $t0" | bc -l)
            # the last fits may take a bootstrap more
            if [ -n "$first" ] || [ "$(echo "$now - $t0 - $total > 60" | bc -l)" = 1 ]; then
                break
            fi
        fi
    done
    [ -n "$first" ] || first=nan
    tmux -L "$sock" send-keys -t lab q
    sleep 3
    tmux -L "$sock" kill-server 2>/dev/null || true
    echo "$(printf '%.0f' "$first" 2>/dev/null || echo nan) $(printf '%.0f' "$total")"
}
i=1
while [ $i -le "$REPEAT" ]; do
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    s=$(one scouts)
    echo "scouts: first live exponent ${s% *} s, all done ${s#* } s"
    [ "${ORDERS:-both}" = scouts ] && { i=$((i + 1)); continue; }
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    l=$(one lpt)
    echo "pair $i: scouts first live exponent ${s% *} s, all done ${s#* } s; costliest first: ${l% *} s, ${l#* } s; total ratio $(echo "${s#* } / ${l#* }" | bc -l | cut -c1-5)"
    i=$((i + 1))
done
