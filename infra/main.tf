data "aws_caller_identity" "current" {}

locals {
  name_prefix   = "${var.name}-${var.environment}"
  endpoint_name = coalesce(var.endpoint_name, local.name_prefix)
  bucket_name   = coalesce(var.artifacts_bucket_name, "${local.name_prefix}-model-artifacts-${data.aws_caller_identity.current.account_id}")

  prefixes = module.model_artifacts.prefixes

  # Layout documented by rcf-serve: models/<version>/model.tar.gz, unpacked into /opt/ml/model.
  model_data_key = "${local.prefixes.models}${var.model_version}/model.tar.gz"
  model_data_url = "s3://${module.model_artifacts.bucket_name}/${local.model_data_key}"

  data_capture_enabled = var.data_capture_enabled && var.inference_type == "real-time"
  data_capture_prefix  = "${local.prefixes.data_capture}${local.endpoint_name}/"
}

module "model_artifacts" {
  source = "./modules/model-artifacts"

  bucket_name                        = local.bucket_name
  kms_key_arn                        = var.kms_key_arn
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
}

module "ecr" {
  source = "./modules/ecr"

  repository_name     = var.ecr_repository_name
  kms_key_arn         = var.kms_key_arn
  pull_principal_arns = var.ecr_pull_principal_arns
  force_delete        = var.force_destroy
}

module "iam" {
  source = "./modules/iam"

  name_prefix                 = local.name_prefix
  artifacts_bucket_arn        = module.model_artifacts.bucket_arn
  artifacts_kms_key_arn       = module.model_artifacts.kms_key_arn
  ecr_repository_arn          = module.ecr.repository_arn
  endpoint_name               = local.endpoint_name
  models_prefix               = local.prefixes.models
  training_input_prefix       = local.prefixes.training_input
  training_output_prefix      = local.prefixes.training_output
  data_capture_prefix         = local.data_capture_enabled ? local.data_capture_prefix : null
  create_batch_transform_role = var.create_batch_transform_role
  batch_input_prefix          = local.prefixes.batch_input
  batch_output_prefix         = local.prefixes.batch_output
  permissions_boundary_arn    = var.permissions_boundary_arn
}

# The alarms only need the endpoint's name, so they exist before the endpoint and can
# guard its first blue/green update.
module "monitoring" {
  source = "./modules/monitoring"

  name                                 = local.name_prefix
  endpoint_name                        = local.endpoint_name
  variant_name                         = "AllTraffic"
  inference_type                       = var.inference_type
  instance_type                        = var.instance_type
  kms_key_arn                          = var.kms_key_arn
  alarm_email                          = var.alarm_email
  alarm_action_arns                    = var.alarm_action_arns
  log_retention_days                   = var.log_retention_days
  model_latency_p99_threshold_ms       = var.model_latency_p99_threshold_ms
  invocation_5xx_errors_threshold      = var.invocation_5xx_errors_threshold
  invocation_4xx_errors_threshold      = var.invocation_4xx_errors_threshold
  cpu_utilization_threshold_percent    = var.cpu_utilization_threshold_percent
  memory_utilization_threshold_percent = var.memory_utilization_threshold_percent
}

module "sagemaker_endpoint" {
  source = "./modules/sagemaker-endpoint"
  count  = var.deploy_endpoint ? 1 : 0

  name                  = local.endpoint_name
  execution_role_arn    = module.iam.hosting_role_arn
  image_repository_url  = module.ecr.repository_url
  image_digest          = var.image_digest
  model_version         = var.model_version
  model_data_url        = local.model_data_url
  container_environment = var.container_environment

  inference_type                     = var.inference_type
  variant_name                       = "AllTraffic"
  instance_type                      = var.instance_type
  initial_instance_count             = var.initial_instance_count
  serverless_memory_size_in_mb       = var.serverless_memory_size_in_mb
  serverless_max_concurrency         = var.serverless_max_concurrency
  serverless_provisioned_concurrency = var.serverless_provisioned_concurrency

  kms_key_arn                      = module.model_artifacts.kms_key_arn
  data_capture_enabled             = local.data_capture_enabled
  data_capture_sampling_percentage = var.data_capture_sampling_percentage
  data_capture_s3_uri              = local.data_capture_enabled ? "s3://${module.model_artifacts.bucket_name}/${trimsuffix(local.data_capture_prefix, "/")}" : null

  autoscaling_enabled             = var.autoscaling_enabled
  autoscaling_min_capacity        = var.autoscaling_min_capacity
  autoscaling_max_capacity        = var.autoscaling_max_capacity
  target_invocations_per_instance = var.target_invocations_per_instance

  traffic_routing_type             = var.traffic_routing_type
  traffic_step_percent             = var.traffic_step_percent
  traffic_wait_interval_in_seconds = var.traffic_wait_interval_in_seconds
  rollback_alarm_names             = module.monitoring.rollback_alarm_names

  # The endpoint's log group must exist (with retention and KMS) before SageMaker
  # creates it on first log write.
  depends_on = [module.monitoring]
}
