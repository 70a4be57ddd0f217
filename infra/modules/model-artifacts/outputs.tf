output "bucket_name" {
  description = "Name of the model_artifacts bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the model_artifacts bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the model_artifacts bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bucket (created here or passed in)."
  value       = local.kms_key_arn
}

output "access_log_bucket_name" {
  description = "Bucket that receives the server access logs."
  value       = local.log_bucket_name
}

output "prefixes" {
  description = "Object layout of the bucket: models/<version>/model.tar.gz, training input and output, data capture, batch input and output."
  value       = local.prefixes
}
