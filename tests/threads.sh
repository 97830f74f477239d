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

echo "threads: $passed passed, $failed failed"
[ $failed -eq 0 ]
