#!/usr/bin/env bash
# One entry point for set-up, the app and the tests.
#   ./run.sh setup            install system packages (apt, as root) and the .venv; idempotent
#   ./run.sh app [ARGS]       set up, then run `fusionlabel ARGS` (no ARGS: the app on sample_data/;
#                             without a display it runs on Xvfb and saves app-screenshot.png;
#                             `open ...` also runs on Xvfb then, e.g. `open DRIVE --screenshot X.png`)
#   ./run.sh test [PYTEST]    set up, then run the whole test suite (Xvfb started when no display)
#   ./run.sh bench            set up, then run every benchmark in benchmarks/
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=${FUSIONLABEL_VENV:-$ROOT/.venv}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

SYSTEM_PACKAGES="python3 python3-venv python3-pip libusb-1.0-0 libgl1 libegl1 libgl1-mesa-dri
libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0
libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 libgomp1 xvfb xauth"

log() { printf '[run.sh] %s\n' "$*" >&2; }

setup_system() {
    command -v dpkg-query >/dev/null || { log "not a Debian system: install the equivalents of: $SYSTEM_PACKAGES"; return; }
    local missing=()
    for p in $SYSTEM_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        log "missing system packages (run as root or install them): ${missing[*]}"; return
    fi
    log "installing system packages: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
    for c in python3.11 python3; do
        if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            echo "$c"; return
        fi
    done
    log "Python 3.11 is required (Debian 12's python3)"; exit 1
}

setup_venv() {
    local stamp="$VENV/.fusionlabel-installed" want
    want=$(cat pyproject.toml | sha256sum | cut -c1-16)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
    local py; py=$(pick_python)
    [ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$py" -m venv "$VENV"; }
    log "installing fusionlabel and its pinned dependencies into $VENV (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install -q -e ".[all]"
    echo "$want" > "$stamp"
}

setup() { setup_system; setup_venv; }

with_display() {
    # OpenGL views need an X server; start a private Xvfb when there is none. Xvfb picks a free
    # display number itself (-displayfd) and says it once it accepts connections: a number picked
    # here may be another job's server, whose windows would take the keyboard focus from ours.
    if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
        local dir n=""
        dir=$(mktemp -d)
        mkfifo "$dir/display"
        Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$dir/display" >/dev/null 2>&1 &
        XVFB_PID=$!
        trap 'kill $XVFB_PID 2>/dev/null || true' EXIT
        read -r -t 60 n < "$dir/display" || true     # a loaded machine can take seconds
        rm -rf "$dir"
        if [ -n "$n" ]; then export DISPLAY=":$n"; else log "Xvfb did not start within 60 s: no virtual screen for the OpenGL views (is another Xvfb holding every display?)"; exit 1; fi
    fi
}

cmd=${1:-app}; shift || true
case "$cmd" in
    setup) setup ;;
    app)   setup
           if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${QT_QPA_PLATFORM:-}" ]; then
               exec "$VENV/bin/fusionlabel" "$@"
           elif [ $# -eq 0 ]; then
               # No screen (a server, CI): show the app on a virtual one and save what it shows.
               with_display
               log "no display: running the app on a virtual screen and saving it to app-screenshot.png"
               "$VENV/bin/fusionlabel" open --screenshot app-screenshot.png
           else
               case "$1" in
                   open|-*) with_display   # the app (`open`, or no command) draws on a virtual screen
                            log "no display: running on a virtual screen (Xvfb ${DISPLAY:-not found})" ;;
               esac
               "$VENV/bin/fusionlabel" "$@"
           fi ;;
    test)  setup; with_display
           export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
           "$VENV/bin/python" -m pytest "$@" ;;
    bench) setup
           for b in benchmarks/bench_*.py; do log "$b"; "$VENV/bin/python" "$b"; done ;;
    *) log "unknown command '$cmd' (setup | app | test | bench)"; exit 2 ;;
esac
