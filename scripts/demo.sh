#!/usr/bin/env bash
# The README's main job: build rcf and find the anomalies in a generated egress-bytes series,
# entirely on local files. Needs only the Rust toolchain that this machine kind ships.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
cargo run --release --quiet -p rcf-core --example stream
