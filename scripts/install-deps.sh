#!/bin/sh
# Installs the Debian packages scalelab builds and tests with, and the text
# packages the default corpus is read from (docs/CORPUS.md): dict-gcide,
# wordnet-base, perl-doc, python3-doc, fortunes, bible-kjv.
#   scripts/install-deps.sh              install them all
#   scripts/install-deps.sh --if-missing install only when a header or tool is absent
set -eu
PKGS="build-essential pkg-config libopenblas-dev libcjson-dev libgsl-dev libcriterion-dev
libncurses-dev bible-kjv fortunes tmux libopenmpi-dev openmpi-bin libcairo2-dev locales
clang libclang-rt-14-dev dict-gcide wordnet-base perl-doc python3-doc libdnnl-dev"

missing() {
    for h in cblas.h cjson/cJSON.h gsl/gsl_multifit_nlinear.h criterion/criterion.h \
             ncursesw/curses.h cairo/cairo.h oneapi/dnnl/dnnl.h; do
        found=0
        for d in /usr/include /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/local/include; do
            [ -e "$d/$h" ] && found=1
        done
        [ $found = 1 ] || return 0
    done
    for t in bible tmux pkg-config localedef clang; do
        command -v $t >/dev/null 2>&1 || return 0
    done
    # locales: the sources localedef builds the tests' de_DE.UTF-8 from
    [ -e /usr/share/i18n/locales/de_DE ] || return 0
    # the default corpus's sources
    [ -e /usr/share/dictd/gcide.dict.dz ] && [ -e /usr/share/wordnet/data.noun ] || return 0
    ls /usr/share/perl/*/pod/perlfunc.pod >/dev/null 2>&1 || return 0
    ls -d /usr/share/doc/python3-doc/html/_sources >/dev/null 2>&1 || return 0
    [ -d /usr/share/games/fortunes ] || return 0
    return 1
}

if [ "${1:-}" = "--if-missing" ] && ! missing; then
    exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "scalelab: installing Debian packages: $(echo $PKGS)" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
