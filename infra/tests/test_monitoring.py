"""The monitoring module: which alarms exist, their thresholds, and that they notify someone."""

from __future__ import annotations

import pytest
from conftest import Sandbox
from tfparse import config, expr, lit, module_dir, statements

MONITORING = module_dir("monitoring")
BASE = {"name": "rcf-dev", "endpoint_name": "rcf-dev", "model_latency_p99_threshold_ms": 500}


@pytest.fixture(scope="module")
def evaluate(tmp_path_factory):
    sandbox = Sandbox(
        tmp_path_factory.mktemp("monitoring-locals"),
        [MONITORING / "variables.tf", MONITORING / "locals.tf"],
        outputs={"alarms": "local.alarms", "vcpus": "local.instance_vcpus", "rollback": "local.rollback_alarm_keys", "log_group": "local.log_group_name"},
    )
    return sandbox.apply_outputs


@pytest.fixture(scope="module")
def monitoring():
    return config(MONITORING)


def test_real_time_has_error_latency_cpu_and_memory_alarms(evaluate):
    alarms = evaluate({**BASE, "instance_type": "ml.c5.2xlarge"})["alarms"]
    assert set(alarms) == {"invocation-5xx-errors", "invocation-4xx-errors", "model-latency-p99", "cpu-utilization", "memory-utilization"}
    assert alarms["invocation-5xx-errors"]["metric_name"] == "Invocation5XXErrors"
    assert alarms["invocation-4xx-errors"]["metric_name"] == "Invocation4XXErrors"
    assert alarms["model-latency-p99"]["extended_statistic"] == "p99"


def test_serverless_has_no_instance_alarms(evaluate):
    alarms = evaluate({**BASE, "inference_type": "serverless"})["alarms"]
    assert set(alarms) == {"invocation-5xx-errors", "invocation-4xx-errors", "model-latency-p99"}


def test_latency_threshold_is_converted_to_microseconds(evaluate):
    assert evaluate(BASE)["alarms"]["model-latency-p99"]["threshold"] == 500_000


@pytest.mark.parametrize("instance_type,vcpus", [("ml.t3.medium", 2), ("ml.c5.large", 2), ("ml.c5.xlarge", 4), ("ml.m5.4xlarge", 16), ("ml.c5.9xlarge", 36)])
def test_cpu_threshold_scales_with_the_vcpu_count(evaluate, instance_type, vcpus):
    outputs = evaluate({**BASE, "instance_type": instance_type, "cpu_utilization_threshold_percent": 80})
    assert outputs["vcpus"] == vcpus
    assert outputs["alarms"]["cpu-utilization"]["threshold"] == 80 * vcpus


def test_rollback_alarms_are_the_5xx_and_latency_alarms(evaluate):
    outputs = evaluate(BASE)
    assert outputs["rollback"] == ["invocation-5xx-errors", "model-latency-p99"]
    assert set(outputs["rollback"]) <= set(outputs["alarms"])


def test_log_group_is_the_one_sagemaker_writes_to(evaluate):
    assert evaluate(BASE)["log_group"] == "/aws/sagemaker/Endpoints/rcf-dev"


def test_every_alarm_notifies_the_topic(monitoring):
    alarm = monitoring.resource("aws_cloudwatch_metric_alarm", "this")
    assert expr(alarm["for_each"]) == "local.alarms"
    assert alarm["actions_enabled"] is True
    assert expr(alarm["alarm_actions"]) == "local.alarm_actions"
    assert expr(alarm["ok_actions"]) == "local.alarm_actions"
    assert expr(monitoring.locals["alarm_actions"]).startswith("concat([aws_sns_topic.alarms.arn]")
    assert lit(alarm["treat_missing_data"]) == "notBreaching"


def test_topic_and_log_group_are_encrypted_and_retained(monitoring):
    topic = monitoring.resource("aws_sns_topic", "alarms")
    assert expr(topic["kms_master_key_id"]) == "local.kms_key_arn"
    log_group = monitoring.resource("aws_cloudwatch_log_group", "endpoint")
    assert expr(log_group["kms_key_id"]) == "local.kms_key_arn"
    assert expr(log_group["retention_in_days"]) == "var.log_retention_days"
    assert expr(log_group["name"]) == "local.log_group_name"


def test_topic_policy_denies_publishing_without_tls(monitoring):
    document = monitoring.data[("aws_iam_policy_document", "topic")]
    deny = [s for s in statements(document) if lit(s.get("effect", '"Allow"')) == "Deny"]
    assert len(deny) == 1
    condition = deny[0]["condition"][0]
    assert (lit(condition["test"]), lit(condition["variable"]), lit(condition["values"])) == ("Bool", "aws:SecureTransport", ["false"])


def test_key_lets_cloudwatch_use_it_for_the_encrypted_topic(monitoring):
    document = monitoring.data[("aws_iam_policy_document", "kms")]
    services = {lit(p["identifiers"][0]) for s in statements(document) for p in s["principals"] if lit(p["type"]) == "Service"}
    assert "cloudwatch.amazonaws.com" in services
    assert "logs.${local.region}.amazonaws.com" in services


def test_email_subscription_is_optional(monitoring):
    subscription = monitoring.resource("aws_sns_topic_subscription", "email")
    assert expr(subscription["count"]) == "var.alarm_email == null ? 0 : 1"
    assert lit(subscription["protocol"]) == "email"
