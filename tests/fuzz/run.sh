#!/bin/sh
# Runs the libFuzzer harnesses built by `make fuzz`: first every regression
# input of tests/fuzz/regress/NAME (inputs that once crashed a reader), then
# each harness for SECONDS from its seed corpus tests/fuzz/corpus/NAME.
# New corpus entries, logs and any crashing input stay under build-fuzz/.
#   tests/fuzz/run.sh BINDIR SECONDS [NAME...]
set -u
bindir=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$bindir")
names=${*:-$(cd "$src" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
mkdir -p "$out/corpus" "$out/crashes" "$out/logs"
failed=
for name in $names; do
    bin=$bindir/fuzz_$name
    log=$out/logs/$name.log
    if [ -d "$src/regress/$name" ] && [ -n "$(ls -A "$src/regress/$name")" ]; then
        if ! "$bin" -close_fd_mask=1 "$src/regress/$name"/* >"$log.regress" 2>&1; then
            echo "fuzz $name: a regression input fails again:" >&2
            tail -n 40 "$log.regress" >&2
            failed="$failed $name"
            continue
        fi
    fi
    mkdir -p "$out/corpus/$name"
    if "$bin" -max_total_time="$seconds" -seed=1 -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -close_fd_mask=1 -artifact_prefix="$out/crashes/$name-" \
        "$out/corpus/$name" "$src/corpus/$name" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz $name: ${runs:-?} inputs in ${seconds}s, no failure" >&2
    else
        echo "fuzz $name: FAILED (input saved under $out/crashes/):" >&2
        tail -n 40 "$log" >&2
        failed="$failed $name"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failures in$failed" >&2
    exit 1
fi
