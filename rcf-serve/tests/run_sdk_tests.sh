#!/usr/bin/env bash
# Runs the SageMaker Python SDK (sagemaker<3) client tests against the real rcf binary.
# Creates (or reuses) a venv at ${RCF_VENV_DIR:-<repo>/.venvs}/sdk with pinned packages,
# builds `rcf`, runs pytest, and fails if pytest fails or runs no test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${RCF_VENV_DIR:-$repo/.venvs}/sdk"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/serve}"

SDK_PINS=("sagemaker==2.257.7" "pytest==8.3.4" "numpy==2.2.6")
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import sagemaker, pytest, numpy, sys; sys.exit(0 if sagemaker.__version__ == "2.257.7" else 1)' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${SDK_PINS[@]}"
fi

cargo build --quiet -p rcf-serve --bin rcf
export RCF_BIN="$CARGO_TARGET_DIR/debug/rcf"
export SAGEMAKER_SUPPRESS_V2_WARNING=1 AWS_DEFAULT_REGION=us-east-1

set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/python" "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    echo "run_sdk_tests.sh: pytest ran no test" >&2
    exit 1
fi
exit $rc
