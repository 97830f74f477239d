#!/bin/sh
# profile.sh: where a training step's time goes, per kernel, for the reference
# configurations (docs/DESIGN-NOTES.md records the split).
#   bench/profile.sh callgrind [d64 d128 d256]   instructions per step and per function
#   bench/profile.sh perf [d64 d128 d256]        cpu-clock samples per function (2 threads)
# callgrind runs an x86-64-v3 (AVX2) build, since valgrind does not decode
# AVX-512; instruction counts are exact and do not depend on the load.
set -eu
mode=${1:-callgrind}
[ $# -gt 0 ] && shift
configs=${*:-d64 d128 d256}
out=${OUT:-/tmp/scalelab-profile}
mkdir -p "$out"
cflags="-O3 -g -fno-math-errno -fno-trapping-math -Iinclude -D_POSIX_C_SOURCE=200809L $(pkg-config --cflags openblas)"
libs="-lgsl -lopenblas -ldnnl -lgomp -lcjson -lm -lpthread"
case $mode in
callgrind)
    cc -std=c11 $cflags -march=x86-64-v3 -o "$out/prof_step" bench/prof_step.c src/core/*.c $libs
    for c in $configs; do
        # every step is inside the collection window (sl_trainer_step and below)
        OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --toggle-collect=sl_trainer_step \
            --callgrind-out-file="$out/cg.$c" "$out/prof_step" "$c" ${STEPS:-2} 1 >/dev/null 2>"$out/cg.$c.log"
        echo "== $c (instructions for ${STEPS:-2} steps, 1 thread)"
        callgrind_annotate --inclusive=no "$out/cg.$c" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -24
    done
    ;;
perf)
    cc -std=c11 $cflags -march=native -o "$out/prof_step" bench/prof_step.c src/core/*.c $libs
    for c in $configs; do
        steps=$(case $c in d64) echo 200 ;; d128) echo 40 ;; *) echo 12 ;; esac)
        perf record -q -e cpu-clock -F 4000 -o "$out/perf.$c" "$out/prof_step" "$c" "$steps" 2 >/dev/null 2>&1
        echo "== $c ($steps steps, 2 threads)"
        perf report -q -i "$out/perf.$c" --no-children --sort symbol 2>/dev/null | head -25
    done
    ;;
*)
    echo "usage: bench/profile.sh callgrind|perf [CONFIG...]" >&2
    exit 2
    ;;
esac
