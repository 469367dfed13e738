# Shared by scripts/serve_pg.sh and scripts/serve_aegra.sh (sourced, not run).

# make_venv VENV PYTHON MARKER PIN...: the engine's virtualenv with its pins, made once
# (MARKER is a program it must hold), then this checkout installed into it, every time,
# so the server runs the graphs as they are here.
make_venv() {
    local venv="$1" python="$2" marker="$3"
    shift 3
    if [ ! -x "$venv/bin/$marker" ]; then
        "$python" -m venv "$venv"
        "$venv/bin/pip" install -q --upgrade pip
        "$venv/bin/pip" install -q "$@"
    fi
    "$venv/bin/pip" install -q -e .
}

# wait_ready URL LOG: return once URL answers 200; otherwise show LOG's tail and fail.
wait_ready() {
    for _ in $(seq 1 180); do
        curl -sf "$1" >/dev/null && return 0
        sleep 0.5
    done
    echo "$1 did not answer within 90 s; see $2" >&2
    tail -20 "$2" >&2
    return 1
}

# start_instances COUNT PORT LOGDIR PROBE LAUNCH: run `LAUNCH <port>` for PORT, PORT+1, ...
# one at a time (each sets up its tables at start), each logging to LOGDIR/instance-K.log
# and waited for on PROBE; then wait in the foreground until Ctrl-C, which stops them all.
start_instances() {
    local count="$1" port="$2" logs="$3" probe="$4" launch="$5"
    mkdir -p "$logs"
    local pids=()
    trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
    for ((i = 0; i < count; i++)); do
        "$launch" $((port + i)) >"$logs/instance-$i.log" 2>&1 &
        pids+=("$!")
        wait_ready "http://127.0.0.1:$((port + i))$probe" "$logs/instance-$i.log"
        echo "instance $i: http://127.0.0.1:$((port + i)) (log $logs/instance-$i.log)"
    done
    wait
}
