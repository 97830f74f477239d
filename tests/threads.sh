#!/bin/sh
# The threaded code paths under ThreadSanitizer, driven through the binary:
# Criterion's runner cannot start in a TSan process (its inheritable arena
# fails to map), so `make SAN=thread check` runs this instead. Any race report
# makes the binary exit 66 (halt_on_error=1) and the case fail.
#   tests/threads.sh BUILD/scalelab
set -u
BIN=$1
tmp=$(mktemp -d /tmp/scalelab-tsan-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SCALELAB_DATA="$tmp"
export TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=1 exitcode=66"
passed=0 failed=0

check() { # name, command...
    name=$1; shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then
        passed=$((passed + 1)); echo "[PASS] $name"
    else
        failed=$((failed + 1)); echo "[FAIL] $name (exit $?)"; cat "$tmp/err"
    fi
}

i=0
while [ $i -lt 1500 ]; do
    echo "And God said, Let there be light: and there was light. $i"
    i=$((i + 1))
done >"$tmp/text.txt"

TINY="--data $tmp/text.txt --layers 2 --d-model 32 --heads 2 --ctx 32 --batch 8 --threads 2 --eval-every 10 --eval-tokens 2048"
check "train on two threads with checkpoints" $BIN train $TINY --steps 30 --out "$tmp/run"
check "resume on two threads" $BIN train $TINY --steps 40 --out "$tmp/run"
check "bench on two threads" $BIN bench --only d64 --steps 2 --threads 2
# bf16 (where the CPU has it): each thread its own oneDNN engine and primitives
if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo; then
    check "train in bf16 on two threads with checkpoints" $BIN train $TINY --steps 30 --precision bf16 --out "$tmp/run16"
    check "bench in bf16 on two threads" $BIN bench --only d64 --steps 2 --threads 2 --precision bf16
fi

# Sweeps: the scheduler, workers with pools of their own, snapshots, signals.
cat >"$tmp/sweep.json" <<EOF
{"name": "tsan", "data": {"corpus": "$tmp/text.txt"},
 "model": {"n_ctx": 32, "head_size": 16, "aspect": 16},
 "sweep": {"n": [3000, 12000, 25000]},
 "train": {"batch": 8, "steps": 40, "eval_every": 10, "eval_tokens": 1024}}
EOF
check "sweep of three runs, two at once on two threads each" \
    $BIN run "$tmp/sweep.json" --runs "$tmp/runs" --cores 4 --jobs 2
# early stopping with anneal: a worker queues the re-run of the run it stopped
cat >"$tmp/anneal.json" <<EOF
{"name": "tsan-anneal", "data": {"corpus": "$tmp/text.txt"},
 "model": {"n_ctx": 32, "head_size": 16, "aspect": 16},
 "sweep": {"kind": "nd", "n": [3000, 12000], "d": [600]},
 "train": {"batch": 8, "steps": 400, "eval_every": 10, "eval_tokens": 1024,
           "early_stopping": {"patience": 2, "anneal": true}}}
EOF
anneal_reruns() {
    $BIN run "$tmp/anneal.json" --runs "$tmp/runs" --cores 4 --jobs 2 --quiet || return 1
    ls -d "$tmp"/runs/tsan-anneal/*-anneal >/dev/null 2>&1
}
check "early-stopped runs re-run to their best step, two at once" anneal_reruns
sed 's/"tsan"/"tsan-stop"/; s/"steps": 40/"steps": 100000/' "$tmp/sweep.json" >"$tmp/stop.json"
interrupt() { # seconds, command...: SIGINT after that long; exit 130 expected
    secs=$1; shift
    "$@" &
    pid=$!
    sleep "$secs"
    kill -INT $pid
    wait $pid
    [ $? -eq 130 ]
}
stop_and_resume() {
    interrupt 2 $BIN run "$tmp/stop.json" --runs "$tmp/runs" --cores 4 --jobs 2 --quiet || return 1
    grep -q '"stopped"' "$tmp"/runs/tsan-stop/*/status.json || return 1
    interrupt 2 $BIN resume "$tmp/runs/tsan-stop" --cores 4 --jobs 2 --quiet || return 1
    ! grep -q '"running"' "$tmp"/runs/tsan-stop/*/status.json
}
check "sweep stopped by SIGINT, resumed, stopped again" stop_and_resume
# The engine API in process (snapshots while workers train, run control):
# tests/engine_drive.c against the library of the same build.
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$(dirname "$BIN")/libscalelab.a
sed 's/"tsan-stop"/"tsan-drive"/' "$tmp/stop.json" >"$tmp/drive.json"
drive() {
    ${CC:-cc} -std=c11 -g -O1 -fsanitize=thread -pthread -I"$root/include" \
        -D_POSIX_C_SOURCE=200809L -o "$tmp/engine_drive" "$root/tests/engine_drive.c" "$lib" \
        -lgsl -lopenblas -ldnnl -lgomp -lcjson -lpanelw -lncursesw -ltinfo -lm -lpthread || return 1
    # BLAS single-threaded, as scalelab's main sets it: OpenBLAS's own threads
    # synchronise in uninstrumented code, which TSan cannot see
    OPENBLAS_NUM_THREADS=1 "$tmp/engine_drive" "$tmp/drive.json" "$tmp/runs"
}
check "engine API: snapshots, pause, resume, cancel, duplicate, drop, stop" drive

check "export" $BIN export "$tmp/runs/tsan" --csv "$tmp/export"
check "status" $BIN status "$tmp/runs/tsan"

# The lab in tmux: the UI thread, the fitter, the engine's threads, the text
# sampler and the signal pipe, with keys pressed while runs train;
# --exit-after ends it.
lab_smoke() {
    sed 's/"tsan"/"tsan-lab"/; s/"steps": 40/"steps": 100000/' "$tmp/sweep.json" >"$tmp/lab.json"
    sock="scalelab-tsan-$$"
    tmux -L "$sock" -f /dev/null new-session -d -s lab -x 120 -y 40 \
        "env LANG=C.UTF-8 TSAN_OPTIONS='$TSAN_OPTIONS' SCALELAB_DATA='$tmp' XDG_CONFIG_HOME='$tmp/config' $BIN lab --preset '$tmp/lab.json' --runs '$tmp/runs' --exit-after 12 2>'$tmp/lab.err'; echo \$? >'$tmp/lab.exit'" ||
        return 1
    i=0
    until tmux -L "$sock" capture-pane -p -t lab 2>/dev/null | grep -q 'Fits (vs published)'; do
        i=$((i + 1)); [ $i -lt 300 ] || break; sleep 0.1
    done
    # w samples the selected run on a thread of its own
    for k in t Space Space '?' Escape Tab c a m s x o w; do
        tmux -L "$sock" send-keys -t lab "$k" 2>/dev/null
    done
    i=0
    until [ -s "$tmp/lab.exit" ]; do
        i=$((i + 1)); [ $i -lt 1200 ] || break; sleep 0.1
    done
    [ -s "$tmp/lab.exit" ] || tmux -L "$sock" capture-pane -p -t lab >&2
    tmux -L "$sock" kill-server 2>/dev/null
    echo "exit status: $(cat "$tmp/lab.exit" 2>/dev/null)" >&2
    cat "$tmp/lab.err" >&2
    [ "$(cat "$tmp/lab.exit" 2>/dev/null)" = 0 ] && ! grep -q ThreadSanitizer "$tmp/lab.err"
}
check "the lab in tmux with keys, ended by --exit-after" lab_smoke

echo "threads: $passed passed, $failed failed"
[ $failed -eq 0 ]
