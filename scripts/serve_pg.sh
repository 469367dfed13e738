#!/usr/bin/env bash
# Serve the project's langgraph.json from N instances sharing one Postgres and one Redis.
#
#   scripts/serve_pg.sh install            # the server's own virtualenv (.venv-serve-pg)
#   DATABASE_URI=postgresql://... REDIS_URI=redis://... scripts/serve_pg.sh serve 2 8123
#
# The engine is langhost + langgraph-runtime-pg: the stock langgraph-api server that
# `langgraph dev` runs, on a Postgres + Redis runtime. It pins langgraph-api 0.11.1 and
# langgraph-checkpoint-postgres 3.1.0, so it lives in its own virtualenv, with this
# package installed there without the `local` extra (the server calls a real endpoint).
#
# `serve N PORT` applies the runtime's migrations, then starts instances on PORT,
# PORT+1, ... in the foreground (Ctrl-C stops them all), each logging to
# .serve-pg/instance-K.log. Every instance takes runs from the shared queue, so any of
# them can serve any thread. Recovery: an instance that dies mid-run stops renewing the
# run's heartbeat; another instance takes the run over once LG_BG_JOB_HEARTBEAT seconds
# pass without one (default here 5; the runtime's own default delays it ~8 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${MEDIATOR_SERVE_VENV:-.venv-serve-pg}"
PINS=("langhost==0.11.1.post1" "langgraph-runtime-pg==0.11.1.post1")

# shellcheck source=scripts/serving_common.sh
source scripts/serving_common.sh

install() {
    make_venv "$VENV" python3 langhost "${PINS[@]}"
    echo "server virtualenv ready: $VENV ($("$VENV/bin/langhost" --version))"
}

launch() {
    # scripts/langhost_serve.py is langhost with the JSON fix custom auth needs (see there).
    "$VENV/bin/python" scripts/langhost_serve.py serve -c langgraph.json --host 127.0.0.1 \
        -p "$1" --no-browser
}

serve() {
    local count="${1:-2}" port="${2:-8123}"
    : "${DATABASE_URI:?set DATABASE_URI to a postgresql:// URL (a database of its own)}"
    : "${REDIS_URI:?set REDIS_URI, e.g. redis://127.0.0.1:6379/0}"
    [ -x "$VENV/bin/langhost" ] || install
    export LG_BG_JOB_HEARTBEAT="${LG_BG_JOB_HEARTBEAT:-5}"
    export LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true
    # Migrated once here; instances that each migrate at start deadlock on the DDL.
    export LG_RUNTIME_PG_AUTO_MIGRATE=false
    "$VENV/bin/langgraph-runtime-pg-migrate" upgrade
    start_instances "$count" "$port" .serve-pg /ok launch
}

case "${1:-}" in
    install) install ;;
    serve) shift; serve "$@" ;;
    *) sed -n '2,6p' "$0"; exit 2 ;;
esac
