#!/usr/bin/env bash
# Benchmark (not a test): `rcf score` on a 10-million-row CSV, streaming in bounded memory.
# Generates the file once (hourly egress bytes of 6 VPCs, ~0.8 GB) under ${RCF_BENCH_DIR:-out/bench},
# trains a 100-tree model on its first 100 000 rows, scores all rows under /usr/bin/time -v and
# prints records/s and the peak RSS. ROWS=… changes the row count.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
rows="${ROWS:-10000000}"
work="${RCF_BENCH_DIR:-$repo/out/bench}"
[[ -x /usr/bin/time ]] || { echo "score_10m.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

cargo build --release --quiet -p rcf-serve --bin rcf
rcf="$CARGO_TARGET_DIR/release/rcf"
mkdir -p "$work"
data="$work/egress-$rows.csv"
if [[ ! -s "$data" ]]; then
    echo "generating $rows rows into $data"
    "$rcf" gen-example --output "$work/gen" --rows "$rows"
    mv "$work/gen/egress.csv" "$data"
fi
echo "input: $data ($(du -h "$data" | cut -f1), $(( $(wc -l < "$data") - 1 )) rows)"
head -100001 "$data" > "$work/train.csv"
"$rcf" train --input "$work/train.csv" --output "$work/model.tar.gz" --id-column timestamp 2>&1 | sed 's/^/  /'

echo "scoring on $(nproc) cores: rcf score --model model.tar.gz --input $(basename "$data") --output scores.csv"
/usr/bin/time -v "$rcf" score --model "$work/model.tar.gz" --input "$data" --output "$work/scores.csv" 2> "$work/time.log"
grep '^rcf:' "$work/time.log" | sed 's/^/  /'
wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.log")"
rss_kb="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.log")"
out_rows=$(( $(wc -l < "$work/scores.csv") - 1 ))
secs="$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')"
echo "rows scored:  $out_rows"
echo "wall time:    ${wall} (${secs} s)"
awk -v r="$out_rows" -v s="$secs" 'BEGIN { printf "records/s:    %.0f\n", r / s }'
awk -v k="$rss_kb" 'BEGIN { printf "peak RSS:     %.1f MiB\n", k / 1024 }'
rm -f "$work/scores.csv"
