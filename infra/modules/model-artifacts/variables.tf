variable "bucket_name" {
  description = "Name of the model_artifacts bucket. The access-log bucket is named \"<bucket_name>-logs\" unless access_log_bucket_name is set, hence the 58-character limit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$", var.bucket_name)) && !strcontains(var.bucket_name, "..")
    error_message = "bucket_name must be 3-58 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer-managed KMS key for SSE-KMS. When null the module creates a key with rotation enabled."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before a key created by this module is deleted after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be between 7 and 30."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which non-current object versions (overwritten or deleted models) are removed."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "noncurrent_versions_to_keep" {
  description = "Number of most recent non-current versions kept regardless of age, so a bad overwrite can always be undone."
  type        = number
  default     = 3

  validation {
    condition     = var.noncurrent_versions_to_keep >= 0 && var.noncurrent_versions_to_keep <= 100
    error_message = "noncurrent_versions_to_keep must be between 0 and 100."
  }
}

variable "data_capture_expiration_days" {
  description = "Days after which objects under the data-capture/ prefix expire. 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.data_capture_expiration_days >= 0 && var.data_capture_expiration_days <= 3650
    error_message = "data_capture_expiration_days must be between 0 and 3650."
  }
}

variable "access_log_bucket_name" {
  description = "Existing bucket that receives S3 server access logs. When null the module creates \"<bucket_name>-logs\"."
  type        = string
  default     = null
}

variable "access_log_expiration_days" {
  description = "Days after which access-log objects expire in the log bucket created by this module."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_expiration_days >= 1 && var.access_log_expiration_days <= 3650
    error_message = "access_log_expiration_days must be between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the buckets even when they hold objects. Keep false outside throw-away environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
