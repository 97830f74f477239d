#!/bin/sh
# One sitting of the training-step benchmark beside the PyTorch peer
# (../shared/peers/torch_gpt_bench.py, Debian's python3-torch): for each
# round, `scalelab bench --json` in fp32 and (where the CPU has it) bf16, then
# the peer on each reference configuration with its two thread settings, the
# faster kept. Rounds interleave, as a machine's load drifts. Prints one line
# per measurement (JSON from bench, tokens/s from the peer) and the load
# average before each round.
#   bench/bench_peer.sh [ROUNDS]       (BIN=... for another binary, OLD=... to add one)
set -eu
BIN=${BIN:-$(pwd)/scalelab}
ROUNDS=${1:-2}
PEER=${PEER:-$(cd "$(dirname "$0")/../.." && pwd)/shared/peers/torch_gpt_bench.py}
[ -f "$PEER" ] || { echo "bench_peer.sh: $PEER is missing" >&2; exit 2; }
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
    { echo "bench_peer.sh: python3-torch is not installed (apt-get install python3-torch)" >&2; exit 2; }
bf16=0
grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo && bf16=1
peer() { # name L C NH T B: the faster of the peer's two thread settings
    a=$(OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$PEER" "$2" "$3" "$4" 256 "$5" "$6" 1 20 | sed -n 's/.*tok_s=\([0-9]*\).*/\1/p')
    b=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$PEER" "$2" "$3" "$4" 256 "$5" "$6" 2 20 | sed -n 's/.*tok_s=\([0-9]*\).*/\1/p')
    echo "peer $1 torch_threads=1,blas=2: $a tokens/s; torch_threads=2,blas=1: $b tokens/s"
}
r=1
while [ $r -le "$ROUNDS" ]; do
    echo "round $r, $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    [ -n "${OLD:-}" ] && echo "old fp32 $("$OLD" bench --json)"
    echo "fp32 $("$BIN" bench --json)"
    [ $bf16 = 1 ] && echo "bf16 $("$BIN" bench --json --precision bf16)"
    peer d64 2 64 2 64 32
    peer d128 4 128 4 128 16
    peer d256 4 256 4 128 16
    r=$((r + 1))
done
