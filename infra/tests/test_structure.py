"""Layout and conventions of infra/, and references that only `terraform validate` would check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tfparse import CONFIG_DIRS, INFRA, MODULE_DIRS, config, expr, lit, strings

ids = lambda p: str(p.relative_to(INFRA.parent))  # noqa: E731
EXPECTED_MODULES = {"model-artifacts", "ecr", "iam", "sagemaker-endpoint", "monitoring"}
META_ARGUMENTS = {"source", "version", "count", "for_each", "depends_on", "providers"}


def test_the_five_modules_exist():
    assert {p.name for p in MODULE_DIRS} == EXPECTED_MODULES


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=ids)
def test_module_has_the_four_files_and_a_readme(directory):
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"{directory.name} lacks {name}"


def test_root_has_its_files_and_environments():
    for name in ("versions.tf", "providers.tf", "variables.tf", "outputs.tf", "main.tf", "README.md", "environments/dev.tfvars", "environments/prod.tfvars.example"):
        assert (INFRA / name).is_file(), name


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=ids)
def test_every_variable_has_a_type_and_a_description(directory):
    cfg = config(directory)
    assert cfg.variables, f"{directory} declares no variables"
    for name, body in cfg.variables.items():
        assert "type" in body, f"variable {name} in {directory.name} has no type"
        assert lit(body.get("description", '""')).strip(), f"variable {name} in {directory.name} has no description"
        assert cfg.where[("variable", name)] == "variables.tf", f"variable {name} is declared outside variables.tf"


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=ids)
def test_every_output_has_a_description(directory):
    cfg = config(directory)
    for name, body in cfg.outputs.items():
        assert lit(body.get("description", '""')).strip(), f"output {name} in {directory.name} has no description"
        assert cfg.where[("output", name)] == "outputs.tf", f"output {name} is declared outside outputs.tf"


def _required_providers(cfg) -> dict:
    for block in cfg.terraform:
        for providers in block.get("required_providers", []):
            return providers
    raise AssertionError("no required_providers block")


def test_root_pins_terraform_and_the_aws_provider_and_has_an_s3_backend():
    root = config(INFRA)
    block = root.terraform[0]
    assert lit(block["required_version"]) == ">= 1.10.0, < 2.0.0"
    aws = _required_providers(root)["aws"]
    assert (lit(aws["source"]), lit(aws["version"])) == ("hashicorp/aws", "~> 6.21")
    assert '"s3"' in block["backend"][0]


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=ids)
def test_modules_require_a_compatible_aws_provider(directory):
    aws = _required_providers(config(directory))["aws"]
    assert lit(aws["version"]) == ">= 6.21.0, < 7.0.0"


# --- references: what `terraform validate` would catch, checked without the provider ------

REFERENCE = {
    "var": re.compile(r"(?<![\w.])var\.(\w+)"),
    "local": re.compile(r"(?<![\w.])local\.(\w+)"),
    "module": re.compile(r"(?<![\w.])module\.(\w+)(?:\[[^\]]*\]|\[\*\])?\.(\w+)"),
    "data": re.compile(r"(?<![\w.])data\.(\w+)\.(\w+)"),
    "resource": re.compile(r"(?<![\w.])((?:aws|terraform)_\w+)\.(\w+)"),
}


def _expressions(value) -> list[str]:
    """Expression text inside a parsed value: whole expressions and ${} inside literals."""
    found = []
    for text in strings(value):
        if text.startswith("${") and text.endswith("}"):
            found.append(text[2:-1])
        else:
            found += re.findall(r"\$\{([^}]*)\}", text)
    return found


def _all_expressions(cfg) -> list[str]:
    parts = [cfg.variables, cfg.outputs, cfg.locals, cfg.resources, cfg.data, cfg.modules, cfg.providers]
    return [e for part in parts for e in _expressions(list(part.values()) if isinstance(part, dict) else part)]


def _module_source(cfg, name: str) -> Path:
    return (cfg.directory / lit(cfg.modules[name]["source"])).resolve()


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=ids)
def test_every_reference_points_at_something_declared(directory):
    cfg = config(directory)
    problems = []
    for text in _all_expressions(cfg):
        problems += [f"var.{n}" for n in REFERENCE["var"].findall(text) if n not in cfg.variables]
        problems += [f"local.{n}" for n in REFERENCE["local"].findall(text) if n not in cfg.locals]
        for module, output in REFERENCE["module"].findall(text):
            if module not in cfg.modules:
                problems.append(f"module.{module}")
            elif output not in config(_module_source(cfg, module)).outputs:
                problems.append(f"module.{module}.{output} (no such output)")
        problems += [f"data.{t}.{n}" for t, n in REFERENCE["data"].findall(text) if (t, n) not in cfg.data]
        stripped = REFERENCE["data"].sub("", text)
        problems += [f"{t}.{n}" for t, n in REFERENCE["resource"].findall(stripped) if (t, n) not in cfg.resources]
    assert not problems, f"undeclared references in {directory.name}: {sorted(set(problems))}"


def test_reference_check_notices_an_undeclared_variable():
    assert REFERENCE["var"].findall("coalesce(var.endpoint_name, local.x)") == ["endpoint_name"]
    assert REFERENCE["resource"].findall("aws_s3_bucket.this.arn") == [("aws_s3_bucket", "this")]
    assert REFERENCE["module"].findall("one(module.sagemaker_endpoint[*].endpoint_name)") == [("sagemaker_endpoint", "endpoint_name")]


@pytest.mark.parametrize("directory", [d for d in CONFIG_DIRS if config(d).modules], ids=ids)
def test_module_calls_pass_declared_and_required_inputs(directory):
    cfg = config(directory)
    for name, call in cfg.modules.items():
        child = config(_module_source(cfg, name))
        passed = set(call) - META_ARGUMENTS
        assert passed <= set(child.variables), f"module {name} passes unknown inputs {sorted(passed - set(child.variables))}"
        required = {v for v, body in child.variables.items() if "default" not in body}
        assert required <= passed, f"module {name} misses required inputs {sorted(required - passed)}"


def test_monitoring_is_created_before_the_endpoint():
    call = config(INFRA).modules["sagemaker_endpoint"]
    assert [expr(d) for d in call["depends_on"]] == ["module.monitoring"]
