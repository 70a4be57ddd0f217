#!/usr/bin/env bash
# The README's main job: build the `rcf` binary, generate a realistic example dataset (hourly
# egress bytes of six VPCs with daily and weekly seasonality, nightly jobs, and three injected
# exfiltration bursts), train a model on it, score every hour with attribution, and print the top
# anomalies with the VPC each one is attributed to. Everything stays on local files under out/demo.
# Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
target="${CARGO_TARGET_DIR:-$PWD/target}"
out="out/demo"
mkdir -p "$out"

echo "== building rcf (release)"
cargo build --release --quiet -p rcf-serve --bin rcf
rcf="$target/release/rcf"

echo "== generating 8 weeks of hourly egress bytes for 6 VPCs"
"$rcf" gen-example --output "$out"
head -3 "$out/egress.csv" | cut -c1-110

echo "== training: rcf train --input $out/egress.csv --output $out/model.tar.gz --id-column timestamp"
"$rcf" train --input "$out/egress.csv" --output "$out/model.tar.gz" --id-column timestamp
"$rcf" inspect "$out/model.tar.gz" > "$out/model.json"
echo "  rcf inspect: training statistics"
sed -n '/"training": {/,/}/p' "$out/model.json" | sed '1d;$d' | tr -s ' ' | sed 's/^/ /'

echo "== scoring: rcf score --model $out/model.tar.gz --input $out/egress.csv --output $out/scores.csv --attribution"
"$rcf" score --model "$out/model.tar.gz" --input "$out/egress.csv" --output "$out/scores.csv" --attribution

echo
echo "== top 8 hours by anomaly score (attribution: the VPC with the largest share of the score)"
threshold="$(sed -n 's/.*"three_sigma_threshold": \([0-9.eE+-]*\).*/\1/p' "$out/model.json")"
tail -n +2 "$out/scores.csv" | sort -t, -k2,2 -g -r > "$out/ranked.csv"
head -8 "$out/ranked.csv" | awk -F, -v header="$(head -1 "$out/scores.csv")" \
    -v threshold="$threshold" -v truth="$(tail -n +2 "$out/bursts.csv" | tr '\n' ';')" '
    BEGIN {
        n = split(header, h, ","); d = (n - 2) / 2
        for (i = 1; i <= d; i++) { name[i] = h[2 + i]; sub(/^high_/, "", name[i]) }
        printf "  %-19s  %6s  %-14s %5s  %-9s  %s\n", "hour", "score", "top VPC", "share", "direction", "injected burst?"
        m = split(truth, bursts, ";")
    }
    {
        best = 0; bestv = -1
        for (i = 1; i <= d; i++) { v = $(2 + i) + $(2 + d + i); if (v > bestv) { bestv = v; best = i } }
        dir = ($(2 + best) >= $(2 + d + best)) ? "higher" : "lower"
        hit = "-"
        for (j = 1; j <= m; j++) {
            if (bursts[j] == "") continue
            split(bursts[j], b, ","); day = substr(b[1], 1, 10); start = substr(b[1], 12, 2) + 0; hour = substr($1, 12, 2) + 0
            if (substr($1, 1, 10) == day && hour >= start && hour < start + b[2]) hit = "yes, " b[3]
        }
        printf "  %-19s  %6.3f  %-14s %4.0f%%  %-9s  %s\n", $1, $2, name[best], 100 * bestv / $2, dir, hit
    }'
echo
echo "  3-sigma threshold of the training scores: $threshold"
echo "  injected bursts (ground truth, $out/bursts.csv):"
tail -n +2 "$out/bursts.csv" | sed 's/^/    /'
echo
echo "Files: $out/egress.csv (data), $out/model.tar.gz (model, same format as the SageMaker container),"
echo "       $out/scores.csv (score + high_/low_ attribution per VPC for every hour)."
