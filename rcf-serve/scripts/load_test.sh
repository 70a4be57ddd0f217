#!/usr/bin/env bash
# Load benchmark (not a test) of `rcf serve` on loopback: a 100-tree model, then
#   1. time from process start to the first 200 from /ping,
#   2. single-record text/csv at concurrency 8 for ${DURATION:-60} s (p50/p99 latency, requests/s),
#   3. 1000-record text/csv payloads at concurrency 2 for ${BATCH_DURATION:-20} s (records/s),
# with the server's RSS before and after, and failed requests. Uses wrk (Debian package; installed
# with apt-get when missing). RCF_BIN points at a prebuilt binary (default: the release build). Binds 127.0.0.1 only; every run is time-bounded; the server is stopped by PID.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
duration="${DURATION:-60}"
batch_duration="${BATCH_DURATION:-20}"
port="${PORT:-18080}"
work="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if [[ -n "${RCF_BIN:-}" ]]; then
    rcf="$RCF_BIN"
else
    cargo build --release --quiet -p rcf-serve --bin rcf
    rcf="$CARGO_TARGET_DIR/release/rcf"
fi

# A 100-tree model over the example data (6 features), in a SageMaker-style model directory.
"$rcf" gen-example --output "$work/data" --weeks 8 2>/dev/null
mkdir -p "$work/model"
"$rcf" train --input "$work/data/egress.csv" --output "$work/model/model.tar.gz" --id-column timestamp --num-trees 100 2>/dev/null
row="$(sed -n '500p' "$work/data/egress.csv" | cut -d, -f2-)"
sed -n '2,1001p' "$work/data/egress.csv" | cut -d, -f2- > "$work/batch.csv"   # no head: with pipefail its early exit fails the pipe
[[ "$(wc -l < "$work/batch.csv")" -eq 1000 ]]

cat > "$work/single.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
wrk.body = "$row"
LUA
cat > "$work/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
local f = io.open("$work/batch.csv", "r")
wrk.body = f:read("*a")
f:close()
LUA

start_ns="$(date +%s%N)"
"$rcf" serve --host 127.0.0.1 --port "$port" --model-dir "$work/model" 2> "$work/serve.log" &
server=$!
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ping" 2>/dev/null)" == "200" ]]; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    (( $(date +%s%N) - start_ns < 30000000000 )) || { echo "load_test.sh: /ping not healthy within 30 s" >&2; exit 1; }
done
healthy_ms="$(( ($(date +%s%N) - start_ns) / 1000000 ))"
rss() { awk '/^VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$server/status"; }
check="$(curl -s -H 'Content-Type: text/csv' --data-binary "$row" "http://127.0.0.1:$port/invocations")"
echo "model: 100 trees × 256 samples, 6 features; one record scores $check"
echo "start → first healthy /ping: ${healthy_ms} ms (includes loading the model)"
echo "RSS before: $(rss)"

echo
echo "== single-record CSV, concurrency 8, ${duration} s"
wrk -t2 -c8 -d"${duration}s" --latency -s "$work/single.lua" "http://127.0.0.1:$port/invocations" > "$work/single.txt"
sed -n '/Latency Distribution/,/99%/p;/Requests\/sec/p;/Non-2xx/p;/Socket errors/p;/requests in/p' "$work/single.txt"
grep -qE 'Non-2xx|Socket errors' "$work/single.txt" || echo "failed requests: 0"
echo "RSS after the single-record run: $(rss)"

echo
echo "== 1000-record CSV payloads, concurrency 2, ${batch_duration} s"
wrk -t1 -c2 -d"${batch_duration}s" --latency -s "$work/batch.lua" "http://127.0.0.1:$port/invocations" > "$work/batch.txt"
sed -n '/Latency Distribution/,/99%/p;/Requests\/sec/p;/Non-2xx/p;/Socket errors/p;/requests in/p' "$work/batch.txt"
grep -qE 'Non-2xx|Socket errors' "$work/batch.txt" || echo "failed requests: 0"
awk '/Requests\/sec/ { printf "records/s: %.0f\n", $2 * 1000 }' "$work/batch.txt"
echo "RSS after: $(rss)"
