# Everything in this file depends on input variables only. The tests evaluate these
# locals with Terraform itself (no provider needed) for real-time and serverless inputs;
# see infra/tests/test_endpoint_shape.py.
locals {
  is_serverless = var.inference_type == "serverless"

  # Gotcha 18: AWS rejects network isolation (and VPC config, data capture) for serverless.
  enable_network_isolation = !local.is_serverless

  # Pinned by digest: a tag can be re-pointed, a digest cannot (gotcha 24).
  image = "${var.image_repository_url}@${var.image_digest}"

  container = {
    image          = local.image
    model_data_url = var.model_data_url
    environment    = var.container_environment
  }

  # The model name changes whenever anything that defines the model changes, so a new
  # endpoint configuration is created and the endpoint is updated (gotcha 19).
  model_fingerprint = substr(sha256(jsonencode({
    container         = local.container
    network_isolation = local.enable_network_isolation
    role              = var.execution_role_arn
  })), 0, 8)
  model_name = "${substr("${var.name}-${var.model_version}", 0, 54)}-${local.model_fingerprint}"

  # One production variant; its shape depends on inference_type.
  variant = {
    variant_name                                      = var.variant_name
    initial_variant_weight                            = 1
    instance_type                                     = local.is_serverless ? null : var.instance_type
    initial_instance_count                            = local.is_serverless ? null : var.initial_instance_count
    container_startup_health_check_timeout_in_seconds = local.is_serverless ? null : var.container_startup_health_check_timeout_in_seconds
    model_data_download_timeout_in_seconds            = local.is_serverless ? null : var.model_data_download_timeout_in_seconds
    serverless_config = local.is_serverless ? [{
      memory_size_in_mb       = var.serverless_memory_size_in_mb
      max_concurrency         = var.serverless_max_concurrency
      provisioned_concurrency = var.serverless_provisioned_concurrency
    }] : []
  }

  # KmsKeyId encrypts the ML storage volume attached to instances; a serverless variant has
  # no such volume, so the key is only set for real-time variants.
  endpoint_config_kms_key_arn = local.is_serverless ? null : var.kms_key_arn

  data_capture = var.data_capture_enabled && !local.is_serverless ? [{
    initial_sampling_percentage = var.data_capture_sampling_percentage
    destination_s3_uri          = var.data_capture_s3_uri
    kms_key_id                  = var.kms_key_arn
    capture_modes               = ["Input", "Output"]
    csv_content_types           = ["text/csv"]
    json_content_types          = ["application/json", "application/jsonlines"]
  }] : []

  autoscaling_enabled = var.autoscaling_enabled && !local.is_serverless

  traffic_routing = {
    type                     = var.traffic_routing_type
    wait_interval_in_seconds = var.traffic_wait_interval_in_seconds
    canary_size              = var.traffic_routing_type == "CANARY" ? [var.traffic_step_percent] : []
    linear_step_size         = var.traffic_routing_type == "LINEAR" ? [var.traffic_step_percent] : []
  }
}
