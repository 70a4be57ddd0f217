output "endpoint_name" {
  description = "Name of the endpoint (InvokeEndpoint EndpointName)."
  value       = aws_sagemaker_endpoint.this.name
}

output "endpoint_arn" {
  description = "ARN of the endpoint."
  value       = aws_sagemaker_endpoint.this.arn
}

output "endpoint_config_name" {
  description = "Name of the endpoint configuration currently attached."
  value       = aws_sagemaker_endpoint_configuration.this.name
}

output "model_name" {
  description = "Name of the SageMaker model (<name>-<model_version>-<fingerprint>)."
  value       = aws_sagemaker_model.this.name
}

output "variant_name" {
  description = "Name of the production variant."
  value       = var.variant_name
}

output "image" {
  description = "Image the model runs, <repository_url>@sha256:<digest>."
  value       = local.image
}

output "inference_type" {
  description = "\"real-time\" or \"serverless\"."
  value       = var.inference_type
}

output "network_isolation" {
  description = "Whether the model runs with network isolation (true for real-time)."
  value       = aws_sagemaker_model.this.enable_network_isolation
}

output "autoscaling_resource_id" {
  description = "Application Auto Scaling resource id (endpoint/<endpoint>/variant/<variant>), or null when autoscaling is off."
  value       = try(aws_appautoscaling_target.this[0].resource_id, null)
}
