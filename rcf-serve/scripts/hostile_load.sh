#!/usr/bin/env bash
# Hostile load benchmark (not a test) of `rcf serve` on loopback, started under
# `prlimit --nofile=${NOFILE:-1024}` with a 100-tree model over the example data (6 features):
#   1. ${IDLE:-1100} idle connections and ${SLOW:-50} slow-loris clients open: /ping p50/p99 on fresh
#      connections (target p99 < 100 ms) and one 1,000-record scoring request;
#   2. slow-loris clients cut within the header timeout (RCF_SERVE_HEADER_TIMEOUT_SECS, default 10 s);
#   3. ${BODIES:-100} connections each holding all but the last byte of a ${BODY_MB:-6} MB body: peak RSS
#      (target < 256 MB) and the answers (503 once the body budget is spent);
#   4. a ${SOAK_SECS:-90} s soak of legitimate requests while the flood keeps reconnecting: failed
#      requests (target 0) and RSS every 5 s (target: flat).
# The client is scripts/hostile_load.py. RCF_BIN points at a prebuilt binary (default: the release
# build, built when missing). Binds 127.0.0.1 only; every phase is time-bounded; the server is stopped by PID.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
port="${PORT:-18090}"
nofile="${NOFILE:-1024}"
work="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -n "${RCF_BIN:-}" ]]; then
    rcf="$RCF_BIN"
else
    cargo build --release --quiet -p rcf-serve --bin rcf
    rcf="$CARGO_TARGET_DIR/release/rcf"
fi

"$rcf" gen-example --output "$work/data" --weeks 8 2>/dev/null
mkdir -p "$work/model"
"$rcf" train --input "$work/data/egress.csv" --output "$work/model/model.tar.gz" --id-column timestamp --num-trees 100 2>/dev/null
sed -n '500p' "$work/data/egress.csv" | cut -d, -f2- > "$work/row.csv"
sed -n '2,1001p' "$work/data/egress.csv" | cut -d, -f2- > "$work/batch.csv"
[[ "$(wc -l < "$work/batch.csv")" -eq 1000 ]]

prlimit --nofile="$nofile" -- "$rcf" serve --host 127.0.0.1 --port "$port" --model-dir "$work/model" 2> "$work/serve.log" &
server=$!
start="$(date +%s)"
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" 2>/dev/null)" == "200" ]]; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    (( $(date +%s) - start < 30 )) || { echo "hostile_load.sh: /ping not healthy within 30 s" >&2; exit 1; }
    sleep 0.1
done
echo "rcf serve under prlimit --nofile=$nofile (pid $server): $(grep -o 'max_connections: [0-9]*' "$work/serve.log" || true)"

PORT="$port" SERVER_PID="$server" ROW_FILE="$work/row.csv" BATCH_FILE="$work/batch.csv" \
    HEADER_TIMEOUT_SECS="${RCF_SERVE_HEADER_TIMEOUT_SECS:-10}" \
    timeout $(( ${SOAK_SECS:-90} + 300 )) python3 "$here/hostile_load.py"
kill -0 "$server" 2>/dev/null || { echo "hostile_load.sh: the server died" >&2; cat "$work/serve.log" >&2; exit 1; }
if grep -q panicked "$work/serve.log"; then echo "hostile_load.sh: panic in the server log" >&2; exit 1; fi
echo "server still running; no panic in its log"
