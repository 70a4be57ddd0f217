output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "ARN of the repository (used to scope the roles' pull permissions)."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "Repository URL, <account>.dkr.ecr.<region>.amazonaws.com/<name>; append @sha256:<digest> to pin an image."
  value       = aws_ecr_repository.this.repository_url
}

output "registry_id" {
  description = "Account ID of the registry that holds the repository."
  value       = aws_ecr_repository.this.registry_id
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the images (created here or passed in)."
  value       = local.kms_key_arn
}
