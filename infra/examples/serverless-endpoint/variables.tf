variable "aws_region" {
  description = "Region of the endpoint; the bucket and repository must be in the same region."
  type        = string
}

variable "endpoint_name" {
  description = "Name of the serverless endpoint."
  type        = string
  default     = "rcf-serverless"
}

variable "artifacts_bucket_name" {
  description = "Existing model_artifacts bucket (for example the one the root configuration created)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  description = "KMS key that encrypts the bucket."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the existing repository holding the rcf image."
  type        = string
}

variable "ecr_repository_url" {
  description = "URL of the same repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  type        = string
}

variable "image_digest" {
  description = "Digest of the image to serve (sha256:...)."
  type        = string
}

variable "model_version" {
  description = "Model to serve: s3://<bucket>/models/<model_version>/model.tar.gz."
  type        = string
}

variable "alarm_email" {
  description = "Optional email subscribed to the alarm topic."
  type        = string
  default     = null
}
