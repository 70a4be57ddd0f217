"""Each module's own validation rules, planned by Terraform with the inputs the root passes."""

from __future__ import annotations

import pytest
from conftest import Sandbox
from tfparse import module_dir

ACCOUNT = "111111111111"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"

VALID = {
    "model-artifacts": {"bucket_name": f"rcf-dev-model-artifacts-{ACCOUNT}"},
    "ecr": {"repository_name": "rcf", "kms_key_arn": KEY, "pull_principal_arns": ["arn:aws:iam::222222222222:role/deployer"]},
    "iam": {
        "name_prefix": "rcf-dev",
        "artifacts_bucket_arn": f"arn:aws:s3:::rcf-dev-model-artifacts-{ACCOUNT}",
        "artifacts_kms_key_arn": KEY,
        "ecr_repository_arn": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/rcf",
        "endpoint_name": "rcf-dev",
        "data_capture_prefix": "data-capture/rcf-dev/",
        "permissions_boundary_arn": f"arn:aws:iam::{ACCOUNT}:policy/boundary",
    },
    "monitoring": {"name": "rcf-dev", "endpoint_name": "rcf-dev", "alarm_email": "ml-oncall@example.com", "kms_key_arn": KEY},
}

INVALID = {
    "bucket-name-too-long": ("model-artifacts", {"bucket_name": "b" * 59}, "bucket_name must be 3-58 characters"),
    "bucket-name-uppercase": ("model-artifacts", {"bucket_name": "Rcf-Artifacts"}, "bucket_name must be 3-58 characters"),
    "short-key-deletion-window": ("model-artifacts", {"kms_key_deletion_window_in_days": 3}, "between 7 and 30"),
    "repository-uppercase": ("ecr", {"repository_name": "RCF"}, "repository_name must be 2-256 lowercase"),
    "wildcard-pull-principal": ("ecr", {"pull_principal_arns": ["*"]}, "wildcards are not accepted"),
    "tiny-image-history": ("ecr", {"max_image_count": 1}, "max_image_count must be between 5 and 10000"),
    "prefix-without-slash": ("iam", {"data_capture_prefix": "data-capture"}, 'data_capture_prefix must be null or a non-empty key prefix ending in "/"'),
    "role-prefix-too-long": ("iam", {"name_prefix": "r" * 49}, "name_prefix must be 1-48 characters"),
    "bucket-arn-is-a-name": ("iam", {"artifacts_bucket_arn": "rcf-dev-model-artifacts"}, "artifacts_bucket_arn must be an S3 bucket ARN"),
    "datapoints-above-periods": ("monitoring", {"alarm_evaluation_periods": 3, "alarm_datapoints_to_alarm": 4}, "between 1 and alarm_evaluation_periods"),
    "cpu-threshold-above-100": ("monitoring", {"cpu_utilization_threshold_percent": 150}, "cpu_utilization_threshold_percent must be in (0, 100]"),
    "not-an-email": ("monitoring", {"alarm_email": "oncall"}, "alarm_email must be null or an email address"),
}


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    return {name: Sandbox(tmp_path_factory.mktemp(name), [module_dir(name) / "variables.tf"]) for name in VALID}


@pytest.mark.parametrize("module", VALID)
def test_module_accepts_valid_inputs(sandboxes, module):
    result = sandboxes[module].plan(VALID[module])
    assert result.retcode == 0, result.stderr


@pytest.mark.parametrize("module,changes,message", INVALID.values(), ids=INVALID.keys())
def test_module_refuses_invalid_inputs(sandboxes, module, changes, message):
    result = sandboxes[module].plan({**VALID[module], **changes})
    assert result.retcode != 0, f"{module} accepted {changes}"
    assert message in result.messages, result.stderr
