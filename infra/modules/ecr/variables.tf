variable "repository_name" {
  description = "Name of the ECR repository that holds the rcf image (one image for `rcf train` and `rcf serve`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.repository_name)) && length(var.repository_name) >= 2 && length(var.repository_name) <= 256
    error_message = "repository_name must be 2-256 lowercase characters: letters, digits and . _ - / separators."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer-managed KMS key for image encryption. When null the module creates a key with rotation enabled."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
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

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images (superseded build layers, failed pushes) are expired."
  type        = number
  default     = 14

  validation {
    condition     = var.untagged_image_expiry_days >= 1 && var.untagged_image_expiry_days <= 365
    error_message = "untagged_image_expiry_days must be between 1 and 365."
  }
}

variable "max_image_count" {
  description = "Number of most recent images kept. Older images expire, so keep this above the number of versions an endpoint may still roll back to."
  type        = number
  default     = 50

  validation {
    condition     = var.max_image_count >= 5 && var.max_image_count <= 10000
    error_message = "max_image_count must be between 5 and 10000."
  }
}

variable "pull_principal_arns" {
  description = "IAM principals of other accounts allowed to pull the image (a repository policy is created only when this list is non-empty). Same-account SageMaker roles pull through their own IAM policies."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.pull_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+)$", arn))])
    error_message = "pull_principal_arns must contain account root or role ARNs; wildcards are not accepted."
  }
}

variable "force_delete" {
  description = "Allow terraform destroy to delete the repository even if it contains images."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
