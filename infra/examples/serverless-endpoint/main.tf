# A serverless endpoint for an existing bucket and repository: only the iam, monitoring
# and sagemaker-endpoint modules are used. Serverless variants run without network
# isolation and without data capture (AWS allows neither), and have no autoscaling
# target; SageMaker scales them up to max_concurrency.

module "iam" {
  source = "../../modules/iam"

  name_prefix                 = var.endpoint_name
  artifacts_bucket_arn        = "arn:aws:s3:::${var.artifacts_bucket_name}"
  artifacts_kms_key_arn       = var.artifacts_kms_key_arn
  ecr_repository_arn          = var.ecr_repository_arn
  endpoint_name               = var.endpoint_name
  create_batch_transform_role = false
}

module "monitoring" {
  source = "../../modules/monitoring"

  name           = var.endpoint_name
  endpoint_name  = var.endpoint_name
  inference_type = "serverless"
  alarm_email    = var.alarm_email
}

module "endpoint" {
  source = "../../modules/sagemaker-endpoint"

  name                 = var.endpoint_name
  execution_role_arn   = module.iam.hosting_role_arn
  image_repository_url = var.ecr_repository_url
  image_digest         = var.image_digest
  model_version        = var.model_version
  model_data_url       = "s3://${var.artifacts_bucket_name}/models/${var.model_version}/model.tar.gz"
  kms_key_arn          = var.artifacts_kms_key_arn

  inference_type               = "serverless"
  serverless_memory_size_in_mb = 2048
  serverless_max_concurrency   = 5

  rollback_alarm_names = module.monitoring.rollback_alarm_names

  depends_on = [module.monitoring]
}
