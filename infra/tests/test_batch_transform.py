"""The batch-transform example builds the job settings rcf needs (no AWS call is made)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from tfparse import INFRA, config, lit

SCRIPT = INFRA / "examples" / "batch-transform" / "run_transform_job.py"
spec = importlib.util.spec_from_file_location("run_transform_job", SCRIPT)
job = importlib.util.module_from_spec(spec)
spec.loader.exec_module(job)

BUCKET = "rcf-dev-model-artifacts-111111111111"
KEY = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/rcf@sha256:" + "c" * 64
TERRAFORM_OUTPUT = {
    "batch_transform_role_arn": {"value": "arn:aws:iam::111111111111:role/rcf-dev-batch-transform"},
    "image": {"value": IMAGE},
    "model_data_url": {"value": f"s3://{BUCKET}/models/v1/model.tar.gz"},
    "artifacts_kms_key_arn": {"value": KEY},
    "s3_prefixes": {"value": {"batch_input": f"s3://{BUCKET}/batch/input/", "batch_output": f"s3://{BUCKET}/batch/output/"}},
}


def _request(**overrides):
    arguments = {
        "job_name": "rcf-batch-1",
        "model_name": "rcf-batch-1",
        "input_prefix": f"s3://{BUCKET}/batch/input/day1/",
        "output_prefix": f"s3://{BUCKET}/batch/output/day1/",
        "kms_key_arn": KEY,
    }
    arguments.update(overrides)
    return job.build_transform_request(**arguments)


def test_csv_input_is_split_by_line_and_scores_are_assembled_by_line():
    request = _request()
    assert request["BatchStrategy"] == "MultiRecord"
    assert request["TransformInput"]["SplitType"] == "Line"
    assert request["TransformInput"]["ContentType"] == "text/csv"
    assert request["TransformOutput"]["AssembleWith"] == "Line"
    assert request["TransformOutput"]["Accept"] == "application/jsonlines"
    assert request["MaxPayloadInMB"] == 6


def test_recordio_protobuf_is_split_by_record():
    assert _request(content_type="application/x-recordio-protobuf")["TransformInput"]["SplitType"] == "RecordIO"


def test_outputs_and_volumes_are_encrypted_with_the_artifacts_key():
    request = _request()
    assert request["TransformOutput"]["KmsKeyId"] == KEY
    assert request["TransformResources"]["VolumeKmsKeyId"] == KEY


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"max_payload_mb": 10, "max_concurrent_transforms": 11}, "must be <= 100 MB"),
        ({"max_payload_mb": 101}, "max_payload_mb must be between 1 and 100"),
        ({"content_type": "application/json"}, "content type must be one of"),
        ({"input_prefix": f"s3://{BUCKET}/batch/input/file.csv"}, "input prefix must end with '/'"),
        ({"output_prefix": f"s3://{BUCKET}/batch/input/day1/"}, "input and output prefixes must differ"),
        ({"job_name": "rcf_batch"}, "1-63 alphanumerics and hyphens"),
    ],
)
def test_settings_sagemaker_would_reject_are_refused(overrides, message):
    with pytest.raises(job.SettingsError, match=message.replace("(", r"\(")):
        _request(**overrides)


def test_transient_model_is_network_isolated_and_pinned_by_digest():
    model = job.build_model_request(model_name="rcf-batch-1", role_arn="arn:aws:iam::111111111111:role/r", image=IMAGE, model_data_url=f"s3://{BUCKET}/models/v1/model.tar.gz")
    assert model["EnableNetworkIsolation"] is True
    assert model["PrimaryContainer"]["Image"] == IMAGE
    with pytest.raises(job.SettingsError, match="pinned by digest"):
        job.build_model_request(model_name="m", role_arn="r", image=IMAGE.split("@")[0] + ":latest", model_data_url=f"s3://{BUCKET}/models/v1/model.tar.gz")


def test_settings_come_from_the_root_outputs_that_exist():
    settings = job.settings_from_terraform_output(TERRAFORM_OUTPUT)
    assert settings["role_arn"].endswith("batch-transform")
    assert set(TERRAFORM_OUTPUT) <= set(config(INFRA).outputs), "the script reads outputs the root does not declare"
    prefixes = {k: lit(v) for k, v in config(INFRA / "modules" / "model-artifacts").locals["prefixes"].items()}
    assert {"batch_input", "batch_output"} <= set(prefixes)


def test_dry_run_refuses_prefixes_outside_the_roles_reach(tmp_path):
    outputs = tmp_path / "tf.json"
    outputs.write_text(json.dumps(TERRAFORM_OUTPUT))
    base = [sys.executable, str(SCRIPT), "--terraform-output", str(outputs), "--dry-run", "--job-name", "rcf-batch-1"]
    good = subprocess.run(base + ["--input-prefix", f"s3://{BUCKET}/batch/input/d/", "--output-prefix", f"s3://{BUCKET}/batch/output/d/"], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    requests = json.loads(good.stdout)
    assert requests["CreateTransformJob"]["ModelName"] == requests["CreateModel"]["ModelName"] == "rcf-batch-1"
    bad = subprocess.run(base + ["--input-prefix", f"s3://{BUCKET}/training/input/", "--output-prefix", f"s3://{BUCKET}/batch/output/d/"], capture_output=True, text=True)
    assert bad.returncode == 2 and "outside" in bad.stderr
