"""checkov (its own virtualenv: it ships a fork of the hcl2 module) over the whole of infra/.

checkov exits 0 when it cannot parse a file, so the JSON summary is what is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tfparse import INFRA

# Every accepted finding, with the reason given next to it in the code (asserted below).
ALLOWED_SKIPS = {
    # KMS key policies: "*" means "this key", and the root principal delegates to IAM.
    "CKV_AWS_109",
    "CKV_AWS_111",
    "CKV_AWS_356",
    # S3: no event consumers; replication left to the platform team; the access-log bucket
    # cannot use SSE-KMS and does not log into itself.
    "CKV2_AWS_62",
    "CKV_AWS_144",
    "CKV_AWS_145",
    "CKV_AWS_18",
    # SageMaker model isolation and endpoint-configuration key depend on inference_type;
    # test_endpoint_shape.py evaluates both with Terraform for real-time and serverless.
    "CKV_AWS_370",
    "CKV_AWS_98",
}


def _checkov() -> Path:
    explicit = os.environ.get("RCF_CHECKOV")
    if explicit:
        return Path(explicit)
    venvs = Path(os.environ.get("RCF_VENV_DIR", INFRA.parent / ".venvs"))
    return venvs / "infra-checkov" / "bin" / "checkov"


def run_checkov(directory: Path) -> dict:
    checkov = _checkov()
    if not checkov.exists():
        pytest.fail(f"checkov not found at {checkov}; run infra/tests/run.sh, which installs it")
    completed = subprocess.run(
        [str(checkov), "-d", str(directory), "--framework", "terraform", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.stdout.strip(), f"checkov printed nothing (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    terraform = [r for r in reports if r.get("check_type") == "terraform"]
    assert len(terraform) == 1, f"no terraform report in checkov output: {[r.get('check_type') for r in reports]}"
    return terraform[0]


@pytest.fixture(scope="module")
def report() -> dict:
    return run_checkov(INFRA)


def test_no_parsing_errors(report):
    assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")


def test_no_failed_checks(report):
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert report["summary"]["failed"] == 0, failed


def test_checkov_evaluated_the_whole_configuration(report):
    summary = report["summary"]
    assert summary["resource_count"] >= 40, summary
    assert summary["passed"] >= 150, summary
    passed = {(c["check_id"], c["resource"]) for c in report["results"]["passed_checks"]}
    for expected in [
        ("CKV_AWS_51", "module.ecr.aws_ecr_repository.this"),  # immutable tags
        ("CKV_AWS_136", "module.ecr.aws_ecr_repository.this"),  # KMS
        ("CKV_AWS_163", "module.ecr.aws_ecr_repository.this"),  # scan on push
        ("CKV_AWS_7", "module.model_artifacts.aws_kms_key.this"),  # rotation
        ("CKV_AWS_26", "module.monitoring.aws_sns_topic.alarms"),  # SNS encryption
        ("CKV_AWS_158", "module.monitoring.aws_cloudwatch_log_group.endpoint"),  # log group KMS
        ("CKV_AWS_338", "module.monitoring.aws_cloudwatch_log_group.endpoint"),  # retention >= 1 year
        ("CKV_AWS_18", "module.model_artifacts.aws_s3_bucket.this"),  # access logging
        ("CKV2_AWS_6", "module.model_artifacts.aws_s3_bucket.this"),  # public access block
        ("CKV2_AWS_61", "module.model_artifacts.aws_s3_bucket.this"),  # lifecycle
    ]:
        assert expected in passed, f"{expected} did not pass"


def test_every_skip_is_allowed_and_carries_a_reason(report):
    skipped = report["results"]["skipped_checks"]
    assert report["summary"]["skipped"] == len(skipped)
    for check in skipped:
        assert check["check_id"] in ALLOWED_SKIPS, f"unexpected skip {check['check_id']} on {check['resource']}"
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) >= 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"


@pytest.fixture(scope="module")
def control_report(tmp_path_factory) -> dict:
    """Negative control: an unencrypted, unisolated setup next to a file that does not parse."""
    directory = tmp_path_factory.mktemp("checkov-control")
    (directory / "main.tf").write_text(
        'resource "aws_sagemaker_model" "m" {\n'
        '  name               = "m"\n'
        '  execution_role_arn = "arn:aws:iam::111111111111:role/r"\n'
        "  primary_container {\n"
        '    image = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/rcf:latest"\n'
        "  }\n"
        "}\n\n"
        'resource "aws_ecr_repository" "r" {\n'
        '  name = "rcf"\n'
        "}\n"
    )
    (directory / "broken.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n')
    return run_checkov(directory)


def test_checkov_fails_an_insecure_configuration(control_report):
    failed = {c["check_id"] for c in control_report["results"]["failed_checks"]}
    assert {"CKV_AWS_370", "CKV_AWS_51", "CKV_AWS_136", "CKV_AWS_163"} <= failed, failed


def test_checkov_reports_a_file_it_cannot_parse(control_report):
    assert control_report["summary"]["parsing_errors"] == 1
