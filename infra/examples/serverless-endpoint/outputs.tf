output "endpoint_name" {
  description = "Name of the serverless endpoint."
  value       = module.endpoint.endpoint_name
}

output "model_name" {
  description = "SageMaker model behind the endpoint."
  value       = module.endpoint.model_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.sns_topic_arn
}
