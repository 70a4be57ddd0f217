variable "name_prefix" {
  description = "Prefix of the role names: <prefix>-training, <prefix>-hosting, <prefix>-batch-transform."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,48}$", var.name_prefix))
    error_message = "name_prefix must be 1-48 characters from A-Z a-z 0-9 + = , . @ _ - (role names are limited to 64)."
  }
}

variable "artifacts_bucket_arn" {
  description = "ARN of the model_artifacts bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN (arn:<partition>:s3:::<bucket>)."
  }
}

variable "artifacts_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the bucket; also used for ML storage volumes, data capture and job outputs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.artifacts_kms_key_arn))
    error_message = "artifacts_kms_key_arn must be a KMS key ARN."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the repository the roles may pull the rcf image from."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN."
  }
}

variable "endpoint_name" {
  description = "Name of the endpoint whose log group (/aws/sagemaker/Endpoints/<name>) the hosting role writes to."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 alphanumerics and hyphens, starting and ending with an alphanumeric."
  }
}

variable "models_prefix" {
  description = "Key prefix of the model archives (models/<version>/model.tar.gz). The hosting role can read only below it."
  type        = string
  default     = "models/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.models_prefix))
    error_message = "models_prefix must be a non-empty key prefix ending in \"/\"."
  }
}

variable "training_input_prefix" {
  description = "Key prefix the training role may read (training channels)."
  type        = string
  default     = "training/input/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.training_input_prefix))
    error_message = "training_input_prefix must be a non-empty key prefix ending in \"/\"."
  }
}

variable "training_output_prefix" {
  description = "Key prefix the training role may write (OutputDataConfig.S3OutputPath)."
  type        = string
  default     = "training/output/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.training_output_prefix))
    error_message = "training_output_prefix must be a non-empty key prefix ending in \"/\"."
  }
}

variable "data_capture_prefix" {
  description = "Key prefix the hosting role may write captured requests and responses to. Null when data capture is off."
  type        = string
  default     = null

  validation {
    condition     = var.data_capture_prefix == null || can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.data_capture_prefix))
    error_message = "data_capture_prefix must be null or a non-empty key prefix ending in \"/\"."
  }
}

variable "create_batch_transform_role" {
  description = "Create the batch-transform role (reads batch input and models, writes batch output)."
  type        = bool
  default     = true
}

variable "batch_input_prefix" {
  description = "Key prefix the batch-transform role may read."
  type        = string
  default     = "batch/input/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.batch_input_prefix))
    error_message = "batch_input_prefix must be a non-empty key prefix ending in \"/\"."
  }
}

variable "batch_output_prefix" {
  description = "Key prefix the batch-transform role may write."
  type        = string
  default     = "batch/output/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.batch_output_prefix))
    error_message = "batch_output_prefix must be a non-empty key prefix ending in \"/\"."
  }
}

variable "permissions_boundary_arn" {
  description = "Optional permissions boundary attached to every role."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
