#!/bin/sh
# make install into a temporary PREFIX, then the installed binary, run from
# another directory with no presets or themes of its own, must find the
# installed ones (relative to itself: PREFIX/share/scalelab) and load them,
# find and train a preset saved in the user's folder, watch its store in an
# installed theme (in tmux), and the man page and docs must be installed.
#   tests/install.sh MAKE [make arguments]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/scalelab-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "tests/install.sh: $*" >&2
    exit 1
}
(cd "$src" && "$@" install PREFIX="$tmp/prefix" >"$tmp/make.log" 2>&1) ||
    { cat "$tmp/make.log" >&2; fail "make install failed"; }
bin="$tmp/prefix/bin/scalelab"
share="$tmp/prefix/share/scalelab"
[ -x "$bin" ] || fail "no $bin"
[ -f "$tmp/prefix/share/man/man1/scalelab.1" ] || fail "no man page"
[ -f "$tmp/prefix/share/doc/scalelab/README.md" ] || fail "no README.md in share/doc/scalelab"
[ -f "$tmp/prefix/share/doc/scalelab/FORMATS.md" ] || fail "no FORMATS.md in share/doc/scalelab"
mkdir -p "$tmp/elsewhere" "$tmp/home"
cd "$tmp/elsewhere"
# no checkout, user folder or environment to fall back on
run() { env -u SCALELAB_PRESETS -u SCALELAB_THEMES HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" "$bin" "$@"; }
run --version >/dev/null || fail "--version failed"
run list presets >"$tmp/presets.txt" || fail "list presets failed: $(cat "$tmp/presets.txt")"
grep -q "^quickstart  *$share/presets/quickstart.json  " "$tmp/presets.txt" ||
    fail "the installed quickstart preset is not found: $(cat "$tmp/presets.txt")"
run list themes >"$tmp/themes.txt" || fail "list themes failed"
grep -q "^light  *$share/themes/light.json  " "$tmp/themes.txt" ||
    fail "the installed light theme is not found: $(cat "$tmp/themes.txt")"
# a preset saved by the lab's editor is found by name, beside the installed ones
mkdir -p "$tmp/home/.config/scalelab/presets"
sed 's/"name": "tiny"/"name": "mine"/' "$share/presets/tiny.json" >"$tmp/home/.config/scalelab/presets/mine.json"
run list presets | grep -q "^mine  *$tmp/home/.config/scalelab/presets/mine.json" ||
    fail "a saved user preset is not listed"
# use them: the saved preset, on a small text of its own, trained by name...
awk 'BEGIN { srand(3); for (i = 0; i < 300000; i++) printf "%c", rand() < 0.17 ? 32 : 97 + int(rand() * 26) }' >"$tmp/text.txt"
sed "s|\"debian\"|\"$tmp/text.txt\"|" "$tmp/home/.config/scalelab/presets/mine.json" >"$tmp/mine.json"
mv "$tmp/mine.json" "$tmp/home/.config/scalelab/presets/mine.json"
SCALELAB_DATA="$tmp/data" run run mine --runs "$tmp/runs" --quiet 2>"$tmp/run.err" ||
    fail "run mine failed: $(cat "$tmp/run.err")"
[ -f "$tmp/runs/mine/sweep.json" ] || fail "run mine wrote no store"
# ...and its store watched by the lab in the installed light theme
if command -v tmux >/dev/null 2>&1; then
    sock="scalelab-install-$$"
    tmux -L "$sock" -f /dev/null new-session -d -s lab -x 100 -y 30 \
        "cd '$tmp/elsewhere' && env LANG=C.UTF-8 HOME='$tmp/home' XDG_CONFIG_HOME='$tmp/home/.config' '$bin' watch '$tmp/runs/mine' --theme light --exit-after 1 2>'$tmp/lab.err'; echo \$? >'$tmp/lab.exit'" ||
        fail "tmux failed"
    i=0
    until [ -s "$tmp/lab.exit" ] || [ $i -ge 300 ]; do
        i=$((i + 1))
        sleep 0.1
    done
    tmux -L "$sock" kill-server 2>/dev/null || true
    [ "$(cat "$tmp/lab.exit" 2>/dev/null)" = 0 ] ||
        fail "watch --theme light: exit $(cat "$tmp/lab.exit" 2>/dev/null): $(cat "$tmp/lab.err")"
else
    echo "tests/install.sh: no tmux, the lab's use of the installed theme is not checked" >&2
fi
# a preset that is not there is refused by name, exit 2
if run run nosuch-preset 2>"$tmp/err.txt"; then fail "run nosuch-preset succeeded"; fi
grep -q "nosuch-preset: no such preset" "$tmp/err.txt" || fail "unexpected error: $(cat "$tmp/err.txt")"
# make install NATIVE=0 builds apart and without -march=native (any x86-64)
(cd "$src" && "$@" -n -B install NATIVE=0 PREFIX="$tmp/generic") >"$tmp/generic.txt" 2>&1 ||
    fail "make -n install NATIVE=0 failed: $(tail -5 "$tmp/generic.txt")"
grep -q -- '-generic/scalelab ' "$tmp/generic.txt" || fail "NATIVE=0 does not install a build of its own"
grep -q -- ' -c -o .*-generic/src/core/ops.o' "$tmp/generic.txt" || fail "NATIVE=0 does not compile"
if grep -q -- '-march=native' "$tmp/generic.txt"; then fail "NATIVE=0 compiles with -march=native"; fi
echo "tests/install.sh: make install PREFIX=... finds its presets and themes from any directory"
