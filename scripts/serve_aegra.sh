#!/usr/bin/env bash
# Serve the project's graphs with Aegra, N instances sharing one Postgres and one Redis.
#
#   scripts/serve_aegra.sh install            # Aegra's own virtualenv (.venv-serve-aegra)
#   DATABASE_URL=postgresql://... REDIS_URL=redis://... scripts/serve_aegra.sh serve 2 2026
#
# Aegra (aegra-api, Apache-2.0) is an independent Agent Protocol server, the second engine
# beside langhost + langgraph-runtime-pg (scripts/serve_pg.sh). It needs Python 3.12 (here
# from pyenv; set MEDIATOR_AEGRA_PYTHON to another) and reads aegra.json, not
# langgraph.json: Aegra names graphs by file path, and it files REST Store items under
# ("users", <identity>, ...) unless aegra.json's store.scopes maps a prefix to the caller's
# attributes: "guidelines" -> identity keeps ("guidelines", <user>) where the graphs put it.
#
# `serve N PORT` applies Aegra's migrations once, then starts instances on PORT, PORT+1, ...
# in the foreground (Ctrl-C stops them all), logging to .serve-aegra/instance-K.log. With
# REDIS_BROKER_ENABLED every instance takes runs from one Redis queue. Recovery: a run
# holds a lease of LEASE_DURATION_SECONDS, renewed every HEARTBEAT_INTERVAL_SECONDS; each
# instance's reaper, every REAPER_INTERVAL_SECONDS, requeues runs whose lease lapsed.
# Aegra's defaults (30/10/15 s) take about 50 s to recover a dead instance's run; the
# 10/3/5 s set here takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${MEDIATOR_AEGRA_VENV:-.venv-serve-aegra}"
PINS=("aegra-api==0.11.0" "aegra-cli==0.11.0")

python312() {
    if [ -n "${MEDIATOR_AEGRA_PYTHON:-}" ]; then echo "$MEDIATOR_AEGRA_PYTHON"; return; fi
    # pyenv's own builds first: its python3.12 shim fails unless 3.12 is the selected version.
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 python3.12; do
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "Aegra needs Python 3.12: install it or set MEDIATOR_AEGRA_PYTHON to one" >&2
    return 1
}

# shellcheck source=scripts/serving_common.sh
source scripts/serving_common.sh

install() {
    make_venv "$VENV" "$(python312)" aegra "${PINS[@]}"
    echo "server virtualenv ready: $VENV ($("$VENV/bin/aegra" --version 2>&1 | head -1))"
}

launch() {
    "$VENV/bin/aegra" serve -c aegra.json --host 127.0.0.1 --port "$1"
}

serve() {
    local count="${1:-2}" port="${2:-2026}"
    : "${DATABASE_URL:?set DATABASE_URL to a postgresql:// URL (a database of its own)}"
    : "${REDIS_URL:?set REDIS_URL, e.g. redis://127.0.0.1:6379/0}"
    [ -x "$VENV/bin/aegra" ] || install
    export AEGRA_CONFIG=aegra.json REDIS_BROKER_ENABLED=true
    export LEASE_DURATION_SECONDS="${LEASE_DURATION_SECONDS:-10}"
    export HEARTBEAT_INTERVAL_SECONDS="${HEARTBEAT_INTERVAL_SECONDS:-3}"
    export REAPER_INTERVAL_SECONDS="${REAPER_INTERVAL_SECONDS:-5}"
    # Migrated once here; instances that each migrate at start race on the DDL.
    export RUN_MIGRATIONS_ON_STARTUP=false
    "$VENV/bin/aegra" db upgrade
    start_instances "$count" "$port" .serve-aegra /ready launch
}

case "${1:-}" in
    install) install ;;
    serve) shift; serve "$@" ;;
    *) sed -n '2,5p' "$0"; exit 2 ;;
esac
