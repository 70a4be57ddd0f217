################################################################################
# Model: the rcf image pinned by digest, serving models/<version>/model.tar.gz
################################################################################

resource "aws_sagemaker_model" "this" {
  #checkov:skip=CKV_AWS_370:Isolation is conditional, which checkov cannot evaluate: on for every real-time variant, off only for serverless, where AWS rejects it. infra/tests/test_endpoint_shape.py evaluates it with Terraform.
  name               = local.model_name
  execution_role_arn = var.execution_role_arn

  # On for real-time variants; AWS refuses it for serverless ones (gotcha 18).
  enable_network_isolation = local.enable_network_isolation

  primary_container {
    image          = local.container.image
    model_data_url = local.container.model_data_url
    environment    = local.container.environment
    mode           = "SingleModel"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Endpoint configuration: immutable, so a new one is created before the old one
# is destroyed (gotcha 19)
################################################################################

resource "aws_sagemaker_endpoint_configuration" "this" {
  #checkov:skip=CKV_AWS_98:The key is conditional, which checkov cannot evaluate: set for every real-time variant, null only for serverless, which has no ML storage volume. infra/tests/test_endpoint_shape.py evaluates it with Terraform.
  name_prefix = "${var.name}-"

  # Encrypts the ML storage volume of real-time instances; a serverless variant has none.
  kms_key_arn = local.endpoint_config_kms_key_arn

  production_variants {
    variant_name                                      = local.variant.variant_name
    model_name                                        = aws_sagemaker_model.this.name
    initial_variant_weight                            = local.variant.initial_variant_weight
    instance_type                                     = local.variant.instance_type
    initial_instance_count                            = local.variant.initial_instance_count
    container_startup_health_check_timeout_in_seconds = local.variant.container_startup_health_check_timeout_in_seconds
    model_data_download_timeout_in_seconds            = local.variant.model_data_download_timeout_in_seconds

    dynamic "serverless_config" {
      for_each = local.variant.serverless_config

      content {
        memory_size_in_mb       = serverless_config.value.memory_size_in_mb
        max_concurrency         = serverless_config.value.max_concurrency
        provisioned_concurrency = serverless_config.value.provisioned_concurrency
      }
    }
  }

  dynamic "data_capture_config" {
    for_each = local.data_capture

    content {
      enable_capture              = true
      initial_sampling_percentage = data_capture_config.value.initial_sampling_percentage
      destination_s3_uri          = data_capture_config.value.destination_s3_uri
      kms_key_id                  = data_capture_config.value.kms_key_id

      dynamic "capture_options" {
        for_each = data_capture_config.value.capture_modes

        content {
          capture_mode = capture_options.value
        }
      }

      capture_content_type_header {
        csv_content_types  = data_capture_config.value.csv_content_types
        json_content_types = data_capture_config.value.json_content_types
      }
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Endpoint with blue/green updates that roll back on alarm
################################################################################

# Real-time and serverless endpoints cannot be converted into each other in place
# (gotcha 18), so changing inference_type replaces the endpoint.
resource "terraform_data" "inference_type" {
  input = var.inference_type
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name

  deployment_config {
    blue_green_update_policy {
      termination_wait_in_seconds          = var.termination_wait_in_seconds
      maximum_execution_timeout_in_seconds = var.maximum_execution_timeout_in_seconds

      traffic_routing_configuration {
        type                     = local.traffic_routing.type
        wait_interval_in_seconds = local.traffic_routing.wait_interval_in_seconds

        dynamic "canary_size" {
          for_each = local.traffic_routing.canary_size

          content {
            type  = "CAPACITY_PERCENT"
            value = canary_size.value
          }
        }

        dynamic "linear_step_size" {
          for_each = local.traffic_routing.linear_step_size

          content {
            type  = "CAPACITY_PERCENT"
            value = linear_step_size.value
          }
        }
      }
    }

    dynamic "auto_rollback_configuration" {
      for_each = length(var.rollback_alarm_names) > 0 ? [var.rollback_alarm_names] : []

      content {
        dynamic "alarms" {
          for_each = auto_rollback_configuration.value

          content {
            alarm_name = alarms.value
          }
        }
      }
    }
  }

  tags = var.tags

  lifecycle {
    replace_triggered_by = [terraform_data.inference_type]
  }
}

################################################################################
# Autoscaling of the real-time variant on SageMakerVariantInvocationsPerInstance
################################################################################

resource "aws_appautoscaling_target" "this" {
  count = local.autoscaling_enabled ? 1 : 0

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/${var.variant_name}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.autoscaling_min_capacity
  max_capacity       = var.autoscaling_max_capacity

  tags = var.tags
}

resource "aws_appautoscaling_policy" "invocations_per_instance" {
  count = local.autoscaling_enabled ? 1 : 0

  name               = "${var.name}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_invocations_per_instance
    scale_in_cooldown  = var.scale_in_cooldown_seconds
    scale_out_cooldown = var.scale_out_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
