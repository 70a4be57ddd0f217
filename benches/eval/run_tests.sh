#!/usr/bin/env bash
# Tests of the detection-quality harness (benches/eval): builds the rcf-eval binary, installs the
# pinned Python packages into ${RCF_VENV_DIR:-<repo>/.venvs}/eval, and runs the pytest suite:
# scorer unit tests, metric tests and a smoke run of the whole harness on generated data.
# The NAB reproduction test (published S(t) columns) runs when NAB's data is found at
# ${RCF_EVAL_NAB_DIR:-<repo>/../shared/data/NAB}; the decision is printed either way.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${RCF_VENV_DIR:-$REPO/.venvs}/eval"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

echo "=== rcf-eval: build (release) ==="
cargo build --release -p rcf-eval --manifest-path "$REPO/Cargo.toml"
export RCF_EVAL_BIN="$CARGO_TARGET_DIR/release/rcf-eval"
test -x "$RCF_EVAL_BIN" || { echo "rcf-eval binary missing at $RCF_EVAL_BIN" >&2; exit 1; }

echo "=== rcf-eval: Python environment ($VENV) ==="
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/python/requirements.txt"

NAB_DIR="${RCF_EVAL_NAB_DIR:-$REPO/../shared/data/NAB}"
if [ -d "$NAB_DIR/results/randomCutForest" ] && [ -f "$NAB_DIR/config/thresholds.json" ]; then
    export RCF_EVAL_NAB_DIR="$(cd "$NAB_DIR" && pwd)"
    export RCF_EVAL_REQUIRE_NAB=1
    echo "NAB reproduction test: ENABLED (NAB data found at $RCF_EVAL_NAB_DIR)"
else
    unset RCF_EVAL_NAB_DIR RCF_EVAL_REQUIRE_NAB || true
    echo "NAB reproduction test: DISABLED (no NAB data at $NAB_DIR; set RCF_EVAL_NAB_DIR to enable) -- it will show as skipped"
fi

echo "=== rcf-eval: pytest ==="
cd "$HERE/python"
set +e
"$VENV/bin/python" -m pytest -rs -p no:cacheprovider
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$rc"
