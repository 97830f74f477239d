#!/bin/sh
# The floors of the source tree (docs/ARCHITECTURE.md): each may include its
# own headers and those of the floors below it, never one above.
#   src/core                                  (include/scalelab/*.h but the three below)
#   src/engine   core                         (include/scalelab/engine.h)
#   src/report   core                         (include/scalelab/figures.h)
#   src/tui      core, engine, report         (include/scalelab/tui.h)
#   src/cli      everything
# Prints each include that breaks this, FILE:LINE: what, and exits 1.
cd "$(dirname "$0")/.." || exit 2

# The floor of a header named in an #include "..." of a file in floor $1.
floor_of() {
    case "$2" in
    scalelab/engine.h) echo engine ;;
    scalelab/figures.h) echo report ;;
    scalelab/tui.h) echo tui ;;
    scalelab/*) echo core ;;
    ../core/* | */src/core/*) echo core ;;
    ../engine/* | */src/engine/*) echo engine ;;
    ../report/* | */src/report/*) echo report ;;
    ../tui/* | */src/tui/*) echo tui ;;
    ../cli/* | */src/cli/*) echo cli ;;
    */*) echo unknown ;;
    *) echo "$1" ;; # a header beside the file: its own floor
    esac
}

allowed() { # may floor $1 include floor $2?
    [ "$1" = "$2" ] && return 0
    case "$1:$2" in
    engine:core | report:core | tui:core | tui:engine | tui:report) return 0 ;;
    cli:*) return 0 ;;
    esac
    return 1
}

bad=0
check_file() { # file, its floor
    # "..." includes, and <scalelab/...> ones
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*\("\|<scalelab/\)' "$1" |
        sed 's/^\([0-9]*\):[^"<]*["<]\([^">]*\)[">].*/\1 \2/' | {
        b=0
        while read -r line hdr; do
            f=$(floor_of "$2" "$hdr")
            if ! allowed "$2" "$f"; then
                echo "$1:$line: includes \"$hdr\" of src/$f, above src/$2 (see docs/ARCHITECTURE.md)"
                b=1
            fi
        done
        exit $b
    } || bad=1
}

for floor in core engine report tui cli; do
    for f in src/$floor/*.c src/$floor/*.h; do
        [ -e "$f" ] && check_file "$f" "$floor"
    done
done
for f in include/scalelab/*.h; do
    case "$(basename "$f")" in
    engine.h) floor=engine ;;
    figures.h) floor=report ;;
    tui.h) floor=tui ;;
    *) floor=core ;;
    esac
    # a public header's own includes name other public headers as scalelab/X.h
    check_file "$f" "$floor"
done
exit $bad
