"""The sagemaker-endpoint module: what the real-time / serverless switch produces.

locals.tf depends on variables only, so Terraform itself evaluates it here (apply of a
provider-free sandbox); the static tests then check that main.tf builds the resources from
exactly those locals.
"""

from __future__ import annotations

import re

import pytest
from conftest import ENDPOINT_BASE, Sandbox
from tfparse import config, expr, lit, module_dir

ENDPOINT = module_dir("sagemaker-endpoint")
LOCALS = [
    "variant",
    "enable_network_isolation",
    "endpoint_config_kms_key_arn",
    "data_capture",
    "autoscaling_enabled",
    "model_name",
    "image",
    "traffic_routing",
]
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

REAL_TIME = {
    **ENDPOINT_BASE,
    "inference_type": "real-time",
    "instance_type": "ml.c5.xlarge",
    "initial_instance_count": 2,
    "autoscaling_min_capacity": 2,
    "autoscaling_max_capacity": 6,
    "data_capture_enabled": True,
    "data_capture_sampling_percentage": 25,
    "data_capture_s3_uri": "s3://rcf-dev-model-artifacts-111111111111/data-capture/rcf-dev",
    "traffic_routing_type": "CANARY",
    "traffic_step_percent": 20,
}
SERVERLESS = {
    **ENDPOINT_BASE,
    "inference_type": "serverless",
    "serverless_memory_size_in_mb": 3072,
    "serverless_max_concurrency": 20,
    "serverless_provisioned_concurrency": 2,
}


@pytest.fixture(scope="module")
def evaluate(tmp_path_factory):
    sandbox = Sandbox(
        tmp_path_factory.mktemp("endpoint-locals"),
        [ENDPOINT / "variables.tf", ENDPOINT / "locals.tf"],
        outputs={name: f"local.{name}" for name in LOCALS},
    )
    cache: dict[str, dict] = {}

    def run(values: dict) -> dict:
        key = repr(sorted(values.items()))
        if key not in cache:
            cache[key] = sandbox.apply_outputs(values)
        return cache[key]

    return run


def test_real_time_variant_has_instances_and_no_serverless_config(evaluate):
    variant = evaluate(REAL_TIME)["variant"]
    assert variant["variant_name"] == "AllTraffic"
    assert variant["instance_type"] == "ml.c5.xlarge"
    assert variant["initial_instance_count"] == 2
    assert variant["container_startup_health_check_timeout_in_seconds"] == 300
    assert variant["serverless_config"] == []


def test_serverless_variant_has_memory_and_concurrency_and_no_instances(evaluate):
    variant = evaluate(SERVERLESS)["variant"]
    assert variant["instance_type"] is None
    assert variant["initial_instance_count"] is None
    assert variant["container_startup_health_check_timeout_in_seconds"] is None
    assert variant["serverless_config"] == [{"memory_size_in_mb": 3072, "max_concurrency": 20, "provisioned_concurrency": 2}]


def test_network_isolation_is_on_for_real_time_and_off_for_serverless(evaluate):
    assert evaluate(REAL_TIME)["enable_network_isolation"] is True
    assert evaluate(SERVERLESS)["enable_network_isolation"] is False


def test_volume_key_is_set_for_real_time_only(evaluate):
    assert evaluate(REAL_TIME)["endpoint_config_kms_key_arn"] == ENDPOINT_BASE["kms_key_arn"]
    assert evaluate(SERVERLESS)["endpoint_config_kms_key_arn"] is None


def test_data_capture_is_encrypted_and_captures_input_and_output(evaluate):
    capture = evaluate(REAL_TIME)["data_capture"]
    assert capture == [
        {
            "initial_sampling_percentage": 25,
            "destination_s3_uri": REAL_TIME["data_capture_s3_uri"],
            "kms_key_id": ENDPOINT_BASE["kms_key_arn"],
            "capture_modes": ["Input", "Output"],
            "csv_content_types": ["text/csv"],
            "json_content_types": ["application/json", "application/jsonlines"],
        }
    ]
    assert evaluate(SERVERLESS)["data_capture"] == []


def test_autoscaling_only_for_real_time(evaluate):
    assert evaluate(REAL_TIME)["autoscaling_enabled"] is True
    assert evaluate(SERVERLESS)["autoscaling_enabled"] is False
    assert evaluate({**REAL_TIME, "autoscaling_enabled": False})["autoscaling_enabled"] is False


def test_image_is_pinned_by_digest(evaluate):
    assert evaluate(REAL_TIME)["image"] == f"{ENDPOINT_BASE['image_repository_url']}@{ENDPOINT_BASE['image_digest']}"


def test_canary_routing_shifts_the_step_percentage(evaluate):
    routing = evaluate(REAL_TIME)["traffic_routing"]
    assert routing == {"type": "CANARY", "wait_interval_in_seconds": 300, "canary_size": [20], "linear_step_size": []}
    assert evaluate(SERVERLESS)["traffic_routing"]["canary_size"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"image_digest": "sha256:" + "b" * 64},
        {"model_version": "v2", "model_data_url": "s3://rcf-dev-model-artifacts-111111111111/models/v2/model.tar.gz"},
        {"container_environment": {"RUST_LOG": "debug"}},
        {"execution_role_arn": "arn:aws:iam::111111111111:role/other"},
        {"inference_type": "serverless", "data_capture_enabled": False, "traffic_routing_type": "ALL_AT_ONCE"},
    ],
    ids=["image", "model-version", "environment", "role", "inference-type"],
)
def test_any_change_to_the_model_changes_its_name(evaluate, change):
    before = evaluate(REAL_TIME)["model_name"]
    after = evaluate({**REAL_TIME, **change})["model_name"]
    assert before != after
    for name in (before, after):
        assert SAGEMAKER_NAME.match(name), name


def test_model_name_is_stable_and_valid_for_the_longest_inputs(evaluate):
    longest = {**REAL_TIME, "name": "e" * 36, "model_version": "v" * 32}
    name = evaluate(longest)["model_name"]
    assert len(name) <= 63 and SAGEMAKER_NAME.match(name), name
    assert evaluate(REAL_TIME)["model_name"] == evaluate(dict(REAL_TIME))["model_name"]
    assert evaluate(REAL_TIME)["model_name"].startswith("rcf-dev-v1-")


# --- main.tf builds the resources from these locals -------------------------------------


@pytest.fixture(scope="module")
def endpoint():
    return config(ENDPOINT)


def test_model_takes_its_isolation_and_container_from_the_locals(endpoint):
    model = endpoint.resource("aws_sagemaker_model", "this")
    assert expr(model["enable_network_isolation"]) == "local.enable_network_isolation"
    assert expr(model["name"]) == "local.model_name"
    container = model["primary_container"][0]
    assert expr(container["image"]) == "local.container.image"
    assert expr(container["model_data_url"]) == "local.container.model_data_url"
    assert model["lifecycle"][0]["create_before_destroy"] is True


def test_endpoint_configuration_is_created_before_destroy_with_a_name_prefix(endpoint):
    endpoint_config = endpoint.resource("aws_sagemaker_endpoint_configuration", "this")
    assert endpoint_config["lifecycle"][0]["create_before_destroy"] is True
    assert "name" not in endpoint_config, "a fixed name would collide with create_before_destroy"
    assert lit(endpoint_config["name_prefix"]) == "${var.name}-"


def test_endpoint_configuration_builds_the_variant_from_the_locals(endpoint):
    endpoint_config = endpoint.resource("aws_sagemaker_endpoint_configuration", "this")
    assert expr(endpoint_config["kms_key_arn"]) == "local.endpoint_config_kms_key_arn"
    variants = endpoint_config["production_variants"]
    assert len(variants) == 1
    variant = variants[0]
    for field in (
        "variant_name",
        "initial_variant_weight",
        "instance_type",
        "initial_instance_count",
        "container_startup_health_check_timeout_in_seconds",
        "model_data_download_timeout_in_seconds",
    ):
        assert expr(variant[field]) == f"local.variant.{field}", field
    assert expr(variant["model_name"]) == "aws_sagemaker_model.this.name"
    dynamic = {label.strip('"'): body for block in variant["dynamic"] for label, body in block.items()}
    assert expr(dynamic["serverless_config"]["for_each"]) == "local.variant.serverless_config"
    capture = {label.strip('"'): body for block in endpoint_config["dynamic"] for label, body in block.items()}
    assert expr(capture["data_capture_config"]["for_each"]) == "local.data_capture"


def test_endpoint_rolls_back_on_alarms_and_is_replaced_when_the_type_changes(endpoint):
    resource = endpoint.resource("aws_sagemaker_endpoint", "this")
    assert expr(resource["endpoint_config_name"]) == "aws_sagemaker_endpoint_configuration.this.name"
    deployment = resource["deployment_config"][0]
    assert "blue_green_update_policy" in deployment
    rollback = {label.strip('"'): body for block in deployment["dynamic"] for label, body in block.items()}
    assert "var.rollback_alarm_names" in expr(rollback["auto_rollback_configuration"]["for_each"])
    assert [expr(e) for e in resource["lifecycle"][0]["replace_triggered_by"]] == ["terraform_data.inference_type"]
    assert expr(endpoint.resource("terraform_data", "inference_type")["input"]) == "var.inference_type"


def test_autoscaling_resource_id_names_the_endpoint_and_the_variant(endpoint):
    target = endpoint.resource("aws_appautoscaling_target", "this")
    assert lit(target["resource_id"]) == "endpoint/${aws_sagemaker_endpoint.this.name}/variant/${var.variant_name}"
    assert lit(target["service_namespace"]) == "sagemaker"
    assert lit(target["scalable_dimension"]) == "sagemaker:variant:DesiredInstanceCount"
    assert expr(target["count"]) == "local.autoscaling_enabled ? 1 : 0"
    # The variant in the endpoint configuration carries the same name the resource id uses.
    assert "variant_name                                      = var.variant_name" in (ENDPOINT / "locals.tf").read_text()
    assert expr(endpoint.resource("aws_sagemaker_endpoint", "this")["name"]) == "var.name"


def test_scaling_policy_tracks_invocations_per_instance_of_that_target(endpoint):
    policy = endpoint.resource("aws_appautoscaling_policy", "invocations_per_instance")
    assert lit(policy["policy_type"]) == "TargetTrackingScaling"
    for field in ("service_namespace", "resource_id", "scalable_dimension"):
        assert expr(policy[field]) == f"aws_appautoscaling_target.this[0].{field}"
    tracking = policy["target_tracking_scaling_policy_configuration"][0]
    metric = tracking["predefined_metric_specification"][0]
    assert lit(metric["predefined_metric_type"]) == "SageMakerVariantInvocationsPerInstance"
    assert expr(tracking["target_value"]) == "var.target_invocations_per_instance"


def test_root_wires_the_alarms_into_the_rollback_and_keeps_the_variant_name():
    from tfparse import INFRA

    root = config(INFRA)
    call = root.modules["sagemaker_endpoint"]
    assert expr(call["rollback_alarm_names"]) == "module.monitoring.rollback_alarm_names"
    assert lit(call["variant_name"]) == lit(root.modules["monitoring"]["variant_name"]) == "AllTraffic"
    assert expr(call["name"]) == expr(root.modules["monitoring"]["endpoint_name"]) == "local.endpoint_name"
