output "endpoint_name" {
  description = "Endpoint to invoke (aws sagemaker-runtime invoke-endpoint --endpoint-name ...)."
  value       = one(module.sagemaker_endpoint[*].endpoint_name)
}

output "endpoint_arn" {
  description = "ARN of the endpoint."
  value       = one(module.sagemaker_endpoint[*].endpoint_arn)
}

output "model_name" {
  description = "SageMaker model currently served."
  value       = one(module.sagemaker_endpoint[*].model_name)
}

output "image" {
  description = "Image the model runs (<repository_url>@sha256:<digest>)."
  value       = one(module.sagemaker_endpoint[*].image)
}

output "ecr_repository_url" {
  description = "Where to push the rcf image."
  value       = module.ecr.repository_url
}

output "artifacts_bucket_name" {
  description = "The model_artifacts bucket."
  value       = module.model_artifacts.bucket_name
}

output "model_data_url" {
  description = "Where the served model archive must be uploaded: s3://<bucket>/models/<model_version>/model.tar.gz."
  value       = local.model_data_url
}

output "artifacts_kms_key_arn" {
  description = "KMS key of the bucket; pass it as the output/volume key of training and transform jobs."
  value       = module.model_artifacts.kms_key_arn
}

output "s3_prefixes" {
  description = "Object layout of the bucket as s3:// URIs."
  value       = { for kind, prefix in local.prefixes : kind => "s3://${module.model_artifacts.bucket_name}/${prefix}" }
}

output "training_role_arn" {
  description = "RoleArn for CreateTrainingJob (reads training/input/, writes training/output/)."
  value       = module.iam.training_role_arn
}

output "hosting_role_arn" {
  description = "Execution role of the SageMaker model."
  value       = module.iam.hosting_role_arn
}

output "batch_transform_role_arn" {
  description = "Execution role for the model of a batch transform job (reads batch/input/ and models/, writes batch/output/)."
  value       = module.iam.batch_transform_role_arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.monitoring.sns_topic_arn
}

output "alarm_names" {
  description = "CloudWatch alarms by kind."
  value       = module.monitoring.alarm_names
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the endpoint."
  value       = module.monitoring.dashboard_name
}

output "autoscaling_resource_id" {
  description = "endpoint/<endpoint>/variant/AllTraffic, or null when autoscaling is off."
  value       = one(module.sagemaker_endpoint[*].autoscaling_resource_id)
}
