# Everything in this file depends on input variables only, so the tests can evaluate it
# with Terraform itself; see infra/tests/test_monitoring_alarms.py.
locals {
  is_serverless  = var.inference_type == "serverless"
  log_group_name = "/aws/sagemaker/Endpoints/${var.endpoint_name}"

  # SageMaker reports CPUUtilization summed over vCPUs (0-400 % on 4 vCPUs). For the
  # families this project allows, medium and large have 2 vCPUs, xlarge 4, Nxlarge 4N.
  instance_size = split(".", var.instance_type)[2]
  instance_vcpus = lookup(
    { medium = 2, large = 2, xlarge = 4 },
    local.instance_size,
    try(tonumber(trimsuffix(local.instance_size, "xlarge")) * 4, 2),
  )

  invocation_dimensions = {
    EndpointName = var.endpoint_name
    VariantName  = var.variant_name
  }

  # Alarms on the AWS/SageMaker invocation metrics exist for both inference types.
  invocation_alarms = {
    invocation-5xx-errors = {
      description         = "Invocation5XXErrors of ${var.endpoint_name}/${var.variant_name}: the container returned server errors. Rolls back blue/green updates."
      namespace           = "AWS/SageMaker"
      metric_name         = "Invocation5XXErrors"
      statistic           = "Sum"
      extended_statistic  = null
      threshold           = var.invocation_5xx_errors_threshold
      comparison_operator = "GreaterThanOrEqualToThreshold"
    }
    invocation-4xx-errors = {
      description         = "Invocation4XXErrors of ${var.endpoint_name}/${var.variant_name}: clients send requests the container rejects."
      namespace           = "AWS/SageMaker"
      metric_name         = "Invocation4XXErrors"
      statistic           = "Sum"
      extended_statistic  = null
      threshold           = var.invocation_4xx_errors_threshold
      comparison_operator = "GreaterThanOrEqualToThreshold"
    }
    model-latency-p99 = {
      description         = "p99 ModelLatency of ${var.endpoint_name}/${var.variant_name} above ${var.model_latency_p99_threshold_ms} ms. Rolls back blue/green updates."
      namespace           = "AWS/SageMaker"
      metric_name         = "ModelLatency"
      statistic           = null
      extended_statistic  = "p99"
      threshold           = var.model_latency_p99_threshold_ms * 1000 # ModelLatency is in microseconds
      comparison_operator = "GreaterThanThreshold"
    }
  }

  # Instance metrics (/aws/sagemaker/Endpoints) exist only for real-time instances.
  instance_alarms = local.is_serverless ? {} : {
    cpu-utilization = {
      description         = "CPUUtilization of ${var.endpoint_name}/${var.variant_name} above ${var.cpu_utilization_threshold_percent} % of ${local.instance_vcpus} vCPUs."
      namespace           = "/aws/sagemaker/Endpoints"
      metric_name         = "CPUUtilization"
      statistic           = "Average"
      extended_statistic  = null
      threshold           = var.cpu_utilization_threshold_percent * local.instance_vcpus
      comparison_operator = "GreaterThanThreshold"
    }
    memory-utilization = {
      description         = "MemoryUtilization of ${var.endpoint_name}/${var.variant_name} above ${var.memory_utilization_threshold_percent} %."
      namespace           = "/aws/sagemaker/Endpoints"
      metric_name         = "MemoryUtilization"
      statistic           = "Average"
      extended_statistic  = null
      threshold           = var.memory_utilization_threshold_percent
      comparison_operator = "GreaterThanThreshold"
    }
  }

  alarms = merge(local.invocation_alarms, local.instance_alarms)

  # Alarms that roll back a blue/green deployment while the new fleet bakes.
  rollback_alarm_keys = ["invocation-5xx-errors", "model-latency-p99"]
}
