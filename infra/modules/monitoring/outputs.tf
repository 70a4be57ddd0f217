output "sns_topic_arn" {
  description = "ARN of the KMS-encrypted alarm topic."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Alarm names by kind (invocation-5xx-errors, invocation-4xx-errors, model-latency-p99, and for real-time cpu-utilization, memory-utilization)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "rollback_alarm_names" {
  description = "Alarms that roll back blue/green updates (5xx errors and p99 model latency)."
  value       = [for key in local.rollback_alarm_keys : aws_cloudwatch_metric_alarm.this[key].alarm_name]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "log_group_name" {
  description = "Log group of the endpoint's containers."
  value       = aws_cloudwatch_log_group.endpoint.name
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the topic and the log group."
  value       = local.kms_key_arn
}
