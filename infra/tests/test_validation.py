"""The root variables' validation rules, run by Terraform itself against tfvars files.

The root variables.tf is planned on its own (it references nothing but variables), so
Terraform evaluates every validation rule exactly as `terraform plan` would.
"""

from __future__ import annotations

import hcl2
import pytest
from conftest import ENDPOINT_BASE, Sandbox
from tfparse import INFRA, config, module_dir

ENVIRONMENTS = INFRA / "environments"


def _tfvars(path) -> dict:
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    with open(path, encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=options)


DEV = _tfvars(ENVIRONMENTS / "dev.tfvars")
PROD = _tfvars(ENVIRONMENTS / "prod.tfvars.example")


@pytest.fixture(scope="module")
def root_variables(tmp_path_factory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("root-variables"), [INFRA / "variables.tf"])


_DROP = object()


def _with(base: dict, **changes) -> dict:
    values = dict(base)
    for key, value in changes.items():
        if value is _DROP:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def test_tfvars_files_only_set_declared_variables():
    declared = set(config(INFRA).variables)
    for name, values in (("dev.tfvars", DEV), ("prod.tfvars.example", PROD)):
        assert set(values) <= declared, f"{name} sets undeclared variables: {sorted(set(values) - declared)}"


@pytest.mark.parametrize("name", ["dev.tfvars", "prod.tfvars.example"])
def test_shipped_tfvars_pass_validation(root_variables, name):
    result = root_variables.plan_file(ENVIRONMENTS / name)
    assert result.retcode == 0, result.stderr


@pytest.mark.parametrize("values", [DEV, PROD], ids=["dev", "prod"])
def test_parsed_tfvars_used_as_test_baselines_pass_validation(root_variables, values):
    result = root_variables.plan(values)
    assert result.retcode == 0, result.stderr


def test_prod_serverless_passes_validation(root_variables):
    values = _with(PROD, inference_type="serverless", data_capture_enabled=False, traffic_routing_type="ALL_AT_ONCE")
    result = root_variables.plan(values)
    assert result.retcode == 0, result.stderr


BAD_PROD_SETTINGS = {
    "one-instance": ({"initial_instance_count": 1}, "prod requires initial_instance_count >= 2"),
    "autoscaling-min-1": ({"autoscaling_min_capacity": 1}, "prod requires autoscaling_min_capacity >= 2"),
    "no-kms-key": ({"kms_key_arn": _DROP}, "prod requires kms_key_arn"),
    "kms-alias-not-key": ({"kms_key_arn": "alias/rcf"}, "kms_key_arn must be a KMS key ARN"),
    "alarms-without-action": ({"alarm_email": _DROP, "alarm_action_arns": []}, "prod requires alarms with an action"),
    "force-destroy": ({"force_destroy": True}, "prod refuses force_destroy = true"),
    "burstable-instance": ({"instance_type": "ml.t3.medium"}, "prod refuses burstable ml.t3 instances"),
    "no-account-guard": ({"allowed_account_ids": _DROP}, "prod requires allowed_account_ids"),
    "short-log-retention": ({"log_retention_days": 30}, "prod requires log_retention_days >= 365"),
    "no-bake-time": ({"traffic_wait_interval_in_seconds": 60}, "prod requires traffic_wait_interval_in_seconds >= 300"),
}


@pytest.mark.parametrize("changes,message", BAD_PROD_SETTINGS.values(), ids=BAD_PROD_SETTINGS.keys())
def test_unsafe_prod_settings_are_refused(root_variables, changes, message):
    result = root_variables.plan(_with(PROD, **changes))
    assert result.retcode != 0, f"prod plan with {changes} was accepted"
    assert message in result.messages, result.stderr


@pytest.mark.parametrize("changes", [{"initial_instance_count": 1, "autoscaling_min_capacity": 1}, {"force_destroy": True}, {"log_retention_days": 30}])
def test_the_prod_rules_do_not_apply_to_dev(root_variables, changes):
    result = root_variables.plan(_with(DEV, **changes))
    assert result.retcode == 0, result.stderr


BAD_SETTINGS = {
    "sampling-above-100": ({"data_capture_sampling_percentage": 101}, "between 0 and 100"),
    "sampling-negative": ({"data_capture_sampling_percentage": -1}, "between 0 and 100"),
    "nvme-instance-type": ({"instance_type": "ml.c5d.xlarge"}, "no local-NVMe"),
    "gpu-instance-type": ({"instance_type": "ml.g5.xlarge"}, "instance_type must be an ml.* CPU type"),
    "too-many-instances": ({"initial_instance_count": 21}, "between 1 and 20"),
    "fractional-instances": ({"initial_instance_count": 1.5}, "whole number"),
    "max-below-min": ({"autoscaling_min_capacity": 3, "autoscaling_max_capacity": 2}, "at least autoscaling_min_capacity"),
    "serverless-with-capture": ({"inference_type": "serverless", "data_capture_enabled": True}, "do not support data capture"),
    "serverless-canary": ({"inference_type": "serverless", "data_capture_enabled": False, "traffic_routing_type": "CANARY"}, "only configured for real-time"),
    "serverless-memory": ({"serverless_memory_size_in_mb": 1500}, "serverless_memory_size_in_mb must be one of"),
    "serverless-concurrency": ({"serverless_max_concurrency": 201}, "between 1 and 200"),
    "provisioned-above-max": ({"serverless_max_concurrency": 5, "serverless_provisioned_concurrency": 6}, "between 1 and serverless_max_concurrency"),
    "digest-is-a-tag": ({"image_digest": "latest"}, "image_digest must look like sha256:"),
    "model-version-with-dot": ({"model_version": "1.2.0"}, "model_version must be 1-32 alphanumerics"),
    "unknown-environment": ({"environment": "production"}, "environment must be dev, staging or prod"),
    "retention-not-accepted-by-cloudwatch": ({"log_retention_days": 100}, "log_retention_days must be a value CloudWatch Logs accepts"),
    "latency-threshold-over-timeout": ({"model_latency_p99_threshold_ms": 70000}, "model_latency_p99_threshold_ms must be in (0, 60000]"),
}


@pytest.mark.parametrize("changes,message", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_out_of_range_settings_are_refused(root_variables, changes, message):
    result = root_variables.plan(_with(DEV, **changes))
    assert result.retcode != 0, f"plan with {changes} was accepted"
    assert message in result.messages, result.stderr


@pytest.fixture(scope="module")
def endpoint_variables(tmp_path_factory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("endpoint-variables"), [module_dir("sagemaker-endpoint") / "variables.tf"])




BAD_ENDPOINT_SETTINGS = {
    "name-too-long-for-name-prefix": ({"name": "a" * 37}, "name must be 1-36 alphanumerics"),
    "model-url-not-tar-gz": ({"model_data_url": "s3://bucket/models/v1/model.bin"}, "model_data_url must be s3://<bucket>/<key>.tar.gz"),
    "capture-without-destination": ({"data_capture_enabled": True}, "data_capture_s3_uri is required"),
    "initial-count-outside-autoscaling-range": ({"initial_instance_count": 5, "autoscaling_max_capacity": 4}, "must lie between autoscaling_min_capacity and autoscaling_max_capacity"),
    "too-many-rollback-alarms": ({"rollback_alarm_names": [f"a{i}" for i in range(11)]}, "At most 10 rollback alarms"),
}


def test_endpoint_module_accepts_its_base_settings(endpoint_variables):
    result = endpoint_variables.plan(ENDPOINT_BASE)
    assert result.retcode == 0, result.stderr


@pytest.mark.parametrize("changes,message", BAD_ENDPOINT_SETTINGS.values(), ids=BAD_ENDPOINT_SETTINGS.keys())
def test_endpoint_module_refuses_bad_settings(endpoint_variables, changes, message):
    result = endpoint_variables.plan(_with(ENDPOINT_BASE, **changes))
    assert result.retcode != 0, f"plan with {changes} was accepted"
    assert message in result.messages, result.stderr
