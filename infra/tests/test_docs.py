"""READMEs: input/output tables in step with the code, and the walkthrough's essentials."""

from __future__ import annotations

import pytest
from docs import expected_readme, render
from tfparse import CONFIG_DIRS, INFRA, MODULE_DIRS, config

ids = lambda p: str(p.relative_to(INFRA.parent))  # noqa: E731


@pytest.mark.parametrize("directory", [d for d in CONFIG_DIRS if (d / "README.md").exists()], ids=ids)
def test_readme_tables_match_the_variables_and_outputs(directory):
    readme = directory / "README.md"
    assert readme.read_text(encoding="utf-8") == expected_readme(readme, config(directory)), (
        f"{readme} is stale: run infra/tests/docs.py --write"
    )


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=ids)
def test_module_readme_lists_every_input_and_output(directory):
    text = (directory / "README.md").read_text(encoding="utf-8")
    cfg = config(directory)
    for name in [*cfg.variables, *cfg.outputs]:
        assert f"| `{name}` |" in text, f"{name} missing from {directory.name}/README.md"


def test_render_lists_required_inputs_first():
    table = render(config(INFRA / "modules" / "sagemaker-endpoint"))
    assert table.index("`execution_role_arn`") < table.index("`autoscaling_enabled`")


def test_walkthrough_covers_the_deployment_steps():
    text = (INFRA / "README.md").read_text(encoding="utf-8")
    for needle in [
        "terraform init",
        "-var-file=environments/dev.tfvars",
        "deploy_endpoint=false",
        "docker push",
        "models/<version>/model.tar.gz",
        "image_digest",
        "invoke-endpoint",
        "infra/tests/run.sh",
        "cannot be verified here",
    ]:
        assert needle in text, f"infra/README.md does not mention {needle!r}"


def test_batch_transform_doc_names_the_settings():
    text = (INFRA / "examples" / "batch-transform" / "README.md").read_text(encoding="utf-8")
    for setting in ["SplitType", "Line", "BatchStrategy", "MultiRecord", "AssembleWith"]:
        assert setting in text
