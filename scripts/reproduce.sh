#!/bin/bash
# reproduce: trains the shipped presets, fits their laws, draws their figures and
# regenerates the measured section of docs/REPRODUCTION.md (and docs/reproduction/*.csv).
# --tiny runs the same pipeline on the tiny preset into a scratch directory (CI).
#
#   scripts/reproduce.sh                    every shipped preset (hours on 2 cores)
#   scripts/reproduce.sh quickstart         some of them; the others keep their rows
#   scripts/reproduce.sh --tiny [--out DIR] the pipeline on tiny presets, docs untouched
#   scripts/reproduce.sh --cores C ...      train on C cores (default: all); two
#                                           pipelines side by side, each with
#                                           --cores 1 --out DIR, leave no core
#                                           idle while a sweep's last run ends
#   RUNS=DIR scripts/reproduce.sh ...       run stores in DIR (default runs/)
#
# A preset whose store is already complete is not retrained: its fits and
# figures are redone and its recorded timing is kept. Each trained store is
# also kept in compact form (sweep, corpus, and each run's config, status and
# metrics; no checkpoints) under docs/reproduction/runs/PRESET; when runs/
# lacks a complete store and that compact one is complete, it is refitted
# without training.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL="quickstart kaplan-n kaplan-d kaplan-nd frontier isoflop shape batch transfer context quickstart-constant quickstart-short-warmup kaplan-d-patient"
tiny=0
out=""
cores=$(nproc)
presets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --tiny) tiny=1 ;;
    --out)
        [ $# -ge 2 ] || { echo "scalelab: reproduce.sh:--out: missing value (expected a directory)" >&2; exit 2; }
        out="$2"
        shift ;;
    --cores)
        [ $# -ge 2 ] && [ "$2" -ge 1 ] 2>/dev/null ||
            { echo "scalelab: reproduce.sh:--cores: missing or bad value (expected a whole number of cores >= 1)" >&2; exit 2; }
        cores="$2"
        shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "scalelab: reproduce.sh:$1: unknown option (expected --tiny, --out DIR, --cores C or preset names)" >&2; exit 2 ;;
    *)
        [ -f "presets/$1.json" ] || { echo "scalelab: reproduce.sh:$1: no such preset (expected one of: $ALL)" >&2; exit 2; }
        presets+=("$1") ;;
    esac
    shift
done

bin=./scalelab
[ -x "$bin" ] || { echo "scalelab: reproduce.sh:./scalelab: not built (run make first)" >&2; exit 2; }

if [ $tiny = 1 ]; then
    # tiny mode never touches docs/: everything goes to a scratch directory
    out=${out:-build/reproduce-tiny}
    [ ${#presets[@]} -gt 0 ] || presets=(tiny)
    rm -rf "$out"
    runs=${RUNS:-$out/runs}
    data=$out/reproduction
    figdir=$out/figures
    report_in=docs/REPRODUCTION.md
    report=$out/REPRODUCTION.md
else
    [ ${#presets[@]} -gt 0 ] || read -r -a presets <<<"$ALL"
    runs=${RUNS:-runs}
    data=${out:-docs}/reproduction
    figdir=${out:-docs}/figures
    report_in=docs/REPRODUCTION.md
    report=${out:-docs}/REPRODUCTION.md
fi
mkdir -p "$runs" "$data" "$figdir"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# docs/reproduction/*.csv hold one block of rows per preset; a preset rerun
# replaces its block and leaves the others alone
replace_rows() { # FILE HEADER PRESET NEWROWS
    local f=$1 header=$2 p=$3 rows=$4
    { echo "$header"
      [ -f "$f" ] && tail -n +2 "$f" | awk -F, -v p="$p" '$1 != p'
      [ -s "$rows" ] && cat "$rows"
    } >"$scratch/replace" || true
    mv -f "$scratch/replace" "$f.tmp" && mv -f "$f.tmp" "$f"
}

complete() { # STORE: every run done
    [ -f "$1/sweep.json" ] || return 1
    "$bin" status "$1" 2>/dev/null | tail -1 | awk '{ exit !($1 == $3 && $4 == "done,") }'
}

# the compact form of a complete store: everything but checkpoints and locks,
# copied to a temporary directory and renamed over the old copy
compact() { # STORE DEST
    local src=$1 dst=$2 tmp=$2.tmp.$$
    rm -rf "$tmp" && mkdir -p "$tmp"
    tar -C "$src" --exclude='checkpoint*' --exclude=.lock --exclude='*.tmp' -cf - . | tar -C "$tmp" -xf -
    sync -f "$tmp" 2>/dev/null || sync
    rm -rf "$dst.old" && { [ ! -d "$dst" ] || mv "$dst" "$dst.old"; } && mv "$tmp" "$dst" && rm -rf "$dst.old"
}

# the store of another preset a figure needs: the trained one, else its compact copy
store_of() { # PRESET -> prints the complete store, or fails
    if complete "$runs/$1"; then echo "$runs/$1"
    elif complete "$data/runs/$1"; then echo "$data/runs/$1"
    else return 1; fi
}

total_wall=0
for p in "${presets[@]}"; do
    store=$runs/$p
    if complete "$store"; then
        echo "reproduce: $p already trained in $store: fits and figures only, its timing kept"
    elif complete "$data/runs/$p"; then
        echo "reproduce: $p refitted from its compact store $data/runs/$p, its timing kept"
        store=$data/runs/$p
    else
        echo "reproduce: training $p into $store ..."
        load=$(cut -d' ' -f1 /proc/loadavg)
        TIMEFORMAT='%R %U %S'
        { time "$bin" run "$p" --runs "$runs" --cores "$cores" --quiet 2>"$scratch/run.err"; } 2>"$scratch/time" ||
            { cat "$scratch/run.err" >&2; echo "scalelab: reproduce.sh:$p: the sweep failed (see above)" >&2; exit 1; }
        read -r wall user sys <"$scratch/time"
        nruns=$("$bin" status "$store" | tail -1 | awk '{print $1}')
        # a preset that fixes threads per run (batch: 2) uses that many cores even
        # when --cores is lower: record what it used
        used=$(tr -d '\n' <"presets/$p.json" | sed -n 's/.*"threads": *\([0-9][0-9]*\).*/\1/p')
        used=$(( ${used:-0} > cores ? used : cores ))
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
        echo "$p,$nruns,$wall,$cpu,$used,$load,$(date -u +%Y-%m-%d)" >"$scratch/t"
        replace_rows "$data/timings.csv" "preset,runs,wall_s,cpu_s,cores,load_at_start,date" "$p" "$scratch/t"
        total_wall=$(awk -v a="$total_wall" -v b="$wall" 'BEGIN { print a + b }')
        printf 'reproduce: %s took %s s wall, %s s CPU on %s cores\n' "$p" "$wall" "$cpu" "$used"
    fi
    [ "$store" = "$data/runs/$p" ] || { mkdir -p "$data/runs" && compact "$store" "$data/runs/$p"; }

    # Kaplan's Figs. 3, 13, 14, 15, 16 and Table 6 also need other stores, when
    # they are trained: the batch scan's B_crit(L), the N sweep's L(N, S), the
    # nd grid's L(D) (docs/REPRODUCTION.md, Figures)
    side=()
    case "$p" in
    kaplan-n | frontier)
        if bl=$(store_of batch-lr); then
            side+=(--bcrit-from "$bl")
            ! nd=$(store_of kaplan-nd) || side+=(--nd-from "$nd")
        fi ;;
    kaplan-nd)
        ! ns=$(store_of kaplan-n) || side+=(--ns-from "$ns")
        ! bl=$(store_of batch-lr) || side+=(--bcrit-from "$bl") ;;
    esac
    "$bin" export "$store" --csv "$scratch/export" --plots "$scratch/fig" "${side[@]}" 2>/dev/null ||
        "$bin" export "$store" --csv "$scratch/export" --plots "$scratch/fig" 2>/dev/null
    if [ -f "$scratch/fig/table6.csv" ]; then
        cp -f "$scratch/fig/table6.csv" "$data/table6-$p.csv"
        cp -f "$scratch/fig/table6.md" "$data/table6-$p.md"
    fi

    # the preset's own laws, the compute frontier from every learning curve, the
    # allocation exponent counting every parameter (Pearce & Song), the output
    # head's FLOPs (Porian et al.), and both, and L(N) on the second corpus when
    # the sweep has one (TABLE:LAW[:N column[:C column]])
    laws=$(tr -d '\n' <"presets/$p.json" | sed -n 's/.*"fit": *\[\([^]]*\)\].*/\1/p' | tr -d '" ' | tr ',' ' ')
    # (for sweeps of model size, n and isoflop: the envelope of data-limited nd
    # curves is no compute frontier, and shape and batch sweeps vary no N)
    kind=$(tr -d '\n' <"presets/$p.json" | sed -n 's/.*"kind": *"\([a-z]*\)".*/\1/p')
    extra=""
    case "${kind:-n}" in n | isoflop) extra="cmin approach1" ;; esac
    specs=""
    for law in $laws $extra; do
        case " $specs " in *" store:$law "*) ;; *) specs="$specs store:$law" ;; esac
    done
    # LAW+trim: with --trim-envelope (the compute two or more sizes reached)
    [ -z "$extra" ] ||
        specs="$specs store:approach1:n_total store:approach1::c_total store:approach1:n_total:c_total
               store:cmin+trim store:approach1+trim store:approach1+trim:n_total:c_total"
    # IsoFLOP minima counting every parameter (the profiles' budgets are Kaplan's C)
    [ "$kind" != isoflop ] || specs="$specs store:approach2:n_total"
    if head -1 "$scratch/export/curves.csv" | grep -q transfer_loss; then
        # each done run's transfer loss at its best test loss, as the figure takes it
        # (runs.csv's columns found by name: its layout grows with its version)
        awk -F, 'NR == FNR && FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "status") cs = i; if ($i == "N") cn = i } next }
            NR == FNR { if ($cs == "done") n[$1] = $cn; next }
            FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "transfer_loss") t = i; next }
            ($1 in n) && $2 > 0 && (!($1 in best) || $6 < best[$1]) { best[$1] = $6; tl[$1] = $t }
            END { print "n,loss,run"; for (r in tl) print n[r] "," tl[r] "," r }' \
            "$scratch/export/runs.csv" "$scratch/export/curves.csv" >"$scratch/transfer.csv"
        specs="$specs transfer:power-n"
    fi
    : >"$scratch/fits"
    for spec in $specs; do
        src=${spec%%:*} rest=${spec#*:}
        law=${rest%%:*} ncol="" ccol="" trim="" name=$rest
        [ "$rest" = "$law" ] || ncol=${rest#*:}
        case "$ncol" in *:*) ccol=${ncol#*:} ncol=${ncol%%:*} ;; esac
        case "$law" in *+trim) law=${law%+trim} trim="trimmed envelope" ;; esac
        name=$law
        how="$trim${trim:+${ncol:+; }}${ncol:+N = $ncol}${ccol:+; C = $ccol}"
        how=${how#; }
        [ -z "$how" ] || name="$law ($how)"
        [ "$src" = store ] && table=$store || { table=$scratch/transfer.csv; name="$law (transfer_loss)"; }
        if "$bin" fit "$table" --law "$law" ${ncol:+--n "$ncol"} ${ccol:+--c "$ccol"} ${trim:+--trim-envelope} --bootstrap 200 --seed 1 \
            --csv "$scratch/fit.csv" >"$scratch/fit.out" 2>"$scratch/fit.err"; then
            tail -n +2 "$scratch/fit.csv" | sed "s/^$law,/$p,$name,/" >>"$scratch/fits"
        else
            why=$(head -1 "$scratch/fit.err" | sed 's/^scalelab: //; s/,/;/g')
            echo "$p,$name,,,,,,,,not fitted: $why" >>"$scratch/fits"
        fi
    done
    # per-token loss against context position, L(T) = E + (T_c/T)^c, per run
    for ctx in "$store"/*/context.csv; do
        [ -f "$ctx" ] || continue
        name="L(T) $(basename "$(dirname "$ctx")")"
        if "$bin" fit "$ctx" --law offset-n --n position --loss test_loss --bootstrap 200 --seed 1 \
            --csv "$scratch/fit.csv" >"$scratch/fit.out" 2>"$scratch/fit.err"; then
            tail -n +2 "$scratch/fit.csv" | sed "s/^offset-n,/$p,$name,/" >>"$scratch/fits"
        else
            why=$(head -1 "$scratch/fit.err" | sed 's/^scalelab: //; s/,/;/g')
            echo "$p,$name,,,,,,,,not fitted: $why" >>"$scratch/fits"
        fi
    done
    replace_rows "$data/fits.csv" "preset,law,param,value,ci_low,ci_high,n_points,r2,rms_log,status" "$p" "$scratch/fits"

    # larger models are more sample-efficient: tokens each run needed to reach
    # the best loss of the smallest model of the sweep
    awk -F, -v p="$p" 'NR == FNR { if (FNR > 1) { n[$1] = $9; best[$1] = $19; if (first == "" || $9 + 0 < n[first]) first = $1 } next }
        FNR == 1 { target = best[first]; next }
        $2 > 0 && !($1 in hit) && $6 + 0 <= target + 5e-7 { hit[$1] = $3 }
        END { for (r in n) if (r in hit) printf "%s,%s,%s,%.4f,%s\n", p, r, n[r], target, hit[r] }' \
        "$scratch/export/runs.csv" "$scratch/export/curves.csv" | sort -t, -k3,3g >"$scratch/eff"
    replace_rows "$data/sample-efficiency.csv" "preset,run,N,target_loss,tokens_to_reach" "$p" "$scratch/eff"

    mkdir -p "$figdir/$p"
    cp -f "$scratch"/fig/*.svg "$figdir/$p/"
    if [ $tiny = 1 ]; then cp -f "$scratch"/fig/*.png "$figdir/$p/"; fi
    rm -rf "$scratch/export" "$scratch/fig"
done

# the generated section of the report, between its two marker lines
{
    echo "<!-- BEGIN GENERATED by scripts/reproduce.sh: do not edit by hand -->"
    echo
    echo "Wall and CPU time per preset (\`scalelab run PRESET --cores C\` on a $(nproc)-core machine, C in the cores column; CPU = user + system):"
    echo
    # the corpus each preset's rows come from: its compact store's, when kept
    : >"$scratch/corpora"
    if [ -f "$data/timings.csv" ]; then
        for q in $(tail -n +2 "$data/timings.csv" | cut -d, -f1); do
            cj=$data/runs/$q/corpus.json
            if [ -f "$cj" ]; then
                name=$(tr -d '\n\t ' <"$cj" | sed -n 's/^{"format_version":[0-9]*,"name":"\([^"]*\)".*/\1/p')
                hash=$(tr -d '\n\t ' <"$cj" | sed -n 's/.*"hash":"\([0-9a-f]*\)","manifest".*/\1/p')
                echo "$q,${name:-?}${hash:+ ($hash)}, $data/runs/$q"
            else
                echo "$q,King James (kjv; an earlier store; not kept)"
            fi
        done >"$scratch/corpora"
    fi
    echo "| preset | runs | wall | CPU | cores | load at start | date | corpus, store |"
    echo "|---|---|---|---|---|---|---|---|"
    [ ! -f "$data/timings.csv" ] || tail -n +2 "$data/timings.csv" | awk -F, -v cf="$scratch/corpora" '
        BEGIN { while ((getline l < cf) > 0) { i = index(l, ","); c[substr(l, 1, i - 1)] = substr(l, i + 1) } }
        { printf "| %s | %s | %.0f s (%.1f min) | %.0f s | %s | %s | %s | %s |\n", $1, $2, $3, $3 / 60, $4, $5, $6, $7, c[$1] }'
    echo
    echo "Fitted parameters (\`scalelab fit runs/PRESET --law LAW --bootstrap 200 --seed 1\`; 95% bootstrap intervals):"
    echo
    echo "| preset | law | parameter | value | 95% interval | points | R² | status |"
    echo "|---|---|---|---|---|---|---|---|"
    tail -n +2 "$data/fits.csv" | awk -F, '{
        if ($4 == "") { printf "| %s | %s | | | | | | %s |\n", $1, $2, $10; next }
        printf "| %s | %s | %s | %.4g | [%.4g, %.4g] | %s | %.3f | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $10 }'
    echo
    echo "Tokens each model needed to reach the best test loss of the sweep's smallest model:"
    echo
    echo "| preset | run | N | target loss | tokens |"
    echo "|---|---|---|---|---|"
    tail -n +2 "$data/sample-efficiency.csv" | awk -F, '{ printf "| %s | %s | %.3g | %s | %.3g |\n", $1, $2, $3, $4, $5 }'
    echo
    echo "<!-- END GENERATED -->"
} >"$scratch/generated"
[ -f "$report_in" ] || { echo "scalelab: reproduce.sh:$report_in: missing (expected the report with its GENERATED markers)" >&2; exit 2; }
grep -q '^<!-- BEGIN GENERATED' "$report_in" && grep -q '^<!-- END GENERATED' "$report_in" ||
    { echo "scalelab: reproduce.sh:$report_in: no GENERATED markers (expected a BEGIN and an END line)" >&2; exit 2; }
awk -v gen="$scratch/generated" '
    /^<!-- BEGIN GENERATED/ { while ((getline l < gen) > 0) print l; skip = 1; next }
    /^<!-- END GENERATED/ { skip = 0; next }
    !skip' "$report_in" >"$scratch/report"
mkdir -p "$(dirname "$report")"
mv -f "$scratch/report" "$report.tmp" && mv -f "$report.tmp" "$report"
echo "reproduce: wrote $report, $data/*.csv and $figdir/; trained for ${total_wall} s wall in total"
