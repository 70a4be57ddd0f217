#!/usr/bin/env bash
# Installs what the tests need and runs every test suite of the repository. CI calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
export RCF_VENV_DIR="${RCF_VENV_DIR:-$PWD/.venvs}"
# One target directory for every suite, so each crate is compiled once per profile.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
command -v cargo >/dev/null || { echo "cargo not found: install Rust first" >&2; exit 1; }

step() { printf '\n=== %s ===\n' "$*"; }

step "Rust: formatting (rustfmt.toml) and clippy, warnings as errors"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

step "Rust: unit, property, conformance and integration tests"
cargo test --workspace --exclude rcf-py --all-targets
cargo test --workspace --exclude rcf-py --doc

step "Hostile-input catalogue against the release binary, under an address-space cap"
# The same hostile_* tests ran above against the debug build; attackers meet the release build.
cargo build --release -p rcf-serve --bin rcf
hostile_tests=()
for file in rcf-serve/tests/hostile_*.rs; do hostile_tests+=(--test "$(basename "$file" .rs)"); done
RCF_BIN="$CARGO_TARGET_DIR/release/rcf" cargo test -p rcf-serve "${hostile_tests[@]}"

step "Terraform: fmt, config loading, checkov, structure tests"
bash infra/tests/run.sh

step "Python package: wheel build, scikit-learn checks, round trips"
bash rcf-py/scripts/test.sh -q

step "CLI against a real S3-compatible server (SeaweedFS on 127.0.0.1, signatures checked)"
bash rcf-serve/tests/run_s3_tests.sh

step "SageMaker container: the real SageMaker Python SDK as the client"
bash rcf-serve/tests/run_sdk_tests.sh

step "Container image: podman build, train and serve containers, hadolint"
bash rcf-serve/scripts/image_test.sh

step "Detection-quality harness: NAB scorer, metrics, smoke run on generated data"
bash benches/eval/run_tests.sh
