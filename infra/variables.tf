################################################################################
# Environment
################################################################################

variable "aws_region" {
  description = "Region of every resource. The model archive must live in the endpoint's region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "environment" {
  description = "Environment name: dev, staging or prod. prod turns on the production guard rails of the other variables."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "allowed_account_ids" {
  description = "Accounts the AWS provider may operate on; any other account makes plan fail. Required in prod."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || alltrue([for id in coalesce(var.allowed_account_ids, []) : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must contain 12-digit account IDs."
  }

  validation {
    condition     = var.environment != "prod" || length(coalesce(var.allowed_account_ids, [])) > 0
    error_message = "prod requires allowed_account_ids, so that a plan against the wrong account fails."
  }
}

variable "name" {
  description = "Short name used in resource names (<name>-<environment>-...)."
  type        = string
  default     = "rcf"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.name))
    error_message = "name must be 2-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}

################################################################################
# Encryption
################################################################################

variable "kms_key_arn" {
  description = "Customer-managed KMS key used for the bucket, the images, the endpoint volumes, data capture, the alarm topic and the log group. Null: each module creates its own key with rotation on. Required in prod, where keys are owned outside this stack so that destroying it cannot schedule their deletion; the key policy must let CloudWatch (alarms) and CloudWatch Logs use the key (see README)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias."
  }

  validation {
    condition     = var.environment != "prod" || var.kms_key_arn != null
    error_message = "prod requires kms_key_arn: a customer-managed key owned outside this stack."
  }
}

################################################################################
# model_artifacts bucket
################################################################################

variable "artifacts_bucket_name" {
  description = "Name of the model_artifacts bucket. Null: <name>-<environment>-model-artifacts-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.artifacts_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$", coalesce(var.artifacts_bucket_name, "-")))
    error_message = "artifacts_bucket_name must be 3-58 lowercase letters, digits, dots or hyphens."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions in the bucket expire."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets and repositories. Refused in prod."
  type        = bool
  default     = false

  validation {
    condition     = !(var.environment == "prod" && var.force_destroy)
    error_message = "prod refuses force_destroy = true: model archives and images must survive a destroy."
  }
}

################################################################################
# Image and model
################################################################################

variable "ecr_repository_name" {
  description = "ECR repository of the rcf image (one image for `rcf train` and `rcf serve`)."
  type        = string
  default     = "rcf"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.ecr_repository_name))
    error_message = "ecr_repository_name must be lowercase letters, digits and . _ - / separators."
  }
}

variable "ecr_pull_principal_arns" {
  description = "Roles or account roots of other accounts that may pull the image."
  type        = list(string)
  default     = []
}

variable "image_digest" {
  description = "Digest of the pushed rcf image, sha256:<64 hex>. The model is pinned by digest."
  type        = string

  validation {
    condition     = can(regex("^sha256:[a-f0-9]{64}$", var.image_digest))
    error_message = "image_digest must look like sha256:<64 lowercase hex characters>."
  }
}

variable "model_version" {
  description = "Version of the model to serve: the endpoint loads s3://<bucket>/models/<model_version>/model.tar.gz."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$", var.model_version))
    error_message = "model_version must be 1-32 alphanumerics and hyphens (it becomes part of the SageMaker model name)."
  }
}

variable "container_environment" {
  description = "Environment variables of the serving container, for example { RUST_LOG = \"info\" }."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.container_environment) <= 16 && alltrue([for k in keys(var.container_environment) : can(regex("^[a-zA-Z_][a-zA-Z0-9_]*$", k)) && length(k) <= 1024])
    error_message = "container_environment allows at most 16 variables with names made of letters, digits and underscores."
  }
}

################################################################################
# Endpoint
################################################################################

variable "deploy_endpoint" {
  description = "Create the SageMaker model, endpoint configuration, endpoint and autoscaling. Set false for the first apply, which only creates the bucket, repository, roles and monitoring so the image and model.tar.gz can be uploaded."
  type        = bool
  default     = true
}

variable "endpoint_name" {
  description = "Endpoint name. Null: <name>-<environment>."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint_name == null || can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,35}$", coalesce(var.endpoint_name, "-")))
    error_message = "endpoint_name must be 1-36 alphanumerics and hyphens."
  }
}

variable "inference_type" {
  description = "\"real-time\" (instances; network isolation, autoscaling, data capture) or \"serverless\" (memory and max concurrency)."
  type        = string
  default     = "real-time"

  validation {
    condition     = contains(["real-time", "serverless"], var.inference_type)
    error_message = "inference_type must be \"real-time\" or \"serverless\"."
  }
}

variable "instance_type" {
  description = "Instance type of the real-time variant (CPU families without local NVMe storage; no burstable t3 in prod)."
  type        = string
  default     = "ml.c5.large"

  validation {
    condition     = can(regex("^ml\\.(t3\\.(medium|large|xlarge|2xlarge)|(c5|c6i|c7i|m5|m6i|m7i|r5|r6i|r7i)\\.(large|xlarge|[1-9][0-9]?xlarge))$", var.instance_type))
    error_message = "instance_type must be an ml.* CPU type of the t3, c5, c6i, c7i, m5, m6i, m7i, r5, r6i or r7i families (no local-NVMe \"d\" variants)."
  }

  validation {
    condition     = !(var.environment == "prod" && startswith(var.instance_type, "ml.t3."))
    error_message = "prod refuses burstable ml.t3 instances: CPU credits run out under sustained scoring load."
  }
}

variable "initial_instance_count" {
  description = "Instances of the real-time variant at creation."
  type        = number
  default     = 1

  validation {
    condition     = var.initial_instance_count >= 1 && var.initial_instance_count <= 20 && floor(var.initial_instance_count) == var.initial_instance_count
    error_message = "initial_instance_count must be a whole number between 1 and 20."
  }

  validation {
    condition     = var.environment != "prod" || var.inference_type == "serverless" || var.initial_instance_count >= 2
    error_message = "prod requires initial_instance_count >= 2, so the endpoint survives the loss of an instance or an Availability Zone."
  }
}

variable "autoscaling_enabled" {
  description = "Scale the real-time variant on SageMakerVariantInvocationsPerInstance. Turn it off for the apply that changes instance_type, then on again."
  type        = bool
  default     = true
}

variable "autoscaling_min_capacity" {
  description = "Fewest instances autoscaling keeps."
  type        = number
  default     = 1

  validation {
    condition     = var.autoscaling_min_capacity >= 1 && var.autoscaling_min_capacity <= 20
    error_message = "autoscaling_min_capacity must be between 1 and 20."
  }

  validation {
    condition     = var.environment != "prod" || var.inference_type == "serverless" || !var.autoscaling_enabled || var.autoscaling_min_capacity >= 2
    error_message = "prod requires autoscaling_min_capacity >= 2."
  }
}

variable "autoscaling_max_capacity" {
  description = "Most instances autoscaling may start."
  type        = number
  default     = 4

  validation {
    condition     = var.autoscaling_max_capacity >= 1 && var.autoscaling_max_capacity <= 20
    error_message = "autoscaling_max_capacity must be between 1 and 20."
  }

  validation {
    condition     = var.autoscaling_max_capacity >= var.autoscaling_min_capacity
    error_message = "autoscaling_max_capacity must be at least autoscaling_min_capacity."
  }
}

variable "target_invocations_per_instance" {
  description = "Target of SageMakerVariantInvocationsPerInstance (per minute): measured max RPS of one instance x 0.5 x 60."
  type        = number
  default     = 3000

  validation {
    condition     = var.target_invocations_per_instance >= 1 && var.target_invocations_per_instance <= 1000000
    error_message = "target_invocations_per_instance must be between 1 and 1000000."
  }
}

variable "serverless_memory_size_in_mb" {
  description = "Memory of the serverless variant."
  type        = number
  default     = 2048

  validation {
    condition     = contains([1024, 2048, 3072, 4096, 5120, 6144], var.serverless_memory_size_in_mb)
    error_message = "serverless_memory_size_in_mb must be one of 1024, 2048, 3072, 4096, 5120, 6144."
  }
}

variable "serverless_max_concurrency" {
  description = "Maximum concurrent invocations of the serverless variant."
  type        = number
  default     = 10

  validation {
    condition     = var.serverless_max_concurrency >= 1 && var.serverless_max_concurrency <= 200
    error_message = "serverless_max_concurrency must be between 1 and 200."
  }
}

variable "serverless_provisioned_concurrency" {
  description = "Provisioned concurrency of the serverless variant (null for none; at most serverless_max_concurrency)."
  type        = number
  default     = null

  validation {
    condition     = var.serverless_provisioned_concurrency == null || try(var.serverless_provisioned_concurrency >= 1 && var.serverless_provisioned_concurrency <= var.serverless_max_concurrency, false)
    error_message = "serverless_provisioned_concurrency must be null or between 1 and serverless_max_concurrency."
  }
}

variable "data_capture_enabled" {
  description = "Capture a sample of requests and responses to s3://<bucket>/data-capture/<endpoint>/ (real-time only)."
  type        = bool
  default     = false

  validation {
    condition     = !(var.data_capture_enabled && var.inference_type == "serverless")
    error_message = "Serverless endpoints do not support data capture; set data_capture_enabled = false."
  }
}

variable "data_capture_sampling_percentage" {
  description = "Percentage of invocations captured when data capture is on."
  type        = number
  default     = 10

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100
    error_message = "data_capture_sampling_percentage must be between 0 and 100."
  }
}

variable "traffic_routing_type" {
  description = "Blue/green traffic shifting: ALL_AT_ONCE, CANARY or LINEAR (the last two for real-time only)."
  type        = string
  default     = "ALL_AT_ONCE"

  validation {
    condition     = contains(["ALL_AT_ONCE", "CANARY", "LINEAR"], var.traffic_routing_type)
    error_message = "traffic_routing_type must be ALL_AT_ONCE, CANARY or LINEAR."
  }

  validation {
    condition     = var.traffic_routing_type == "ALL_AT_ONCE" || var.inference_type == "real-time"
    error_message = "CANARY and LINEAR traffic shifting are only configured for real-time variants."
  }
}

variable "traffic_step_percent" {
  description = "Canary size or linear step, in percent of the new fleet's capacity."
  type        = number
  default     = 25

  validation {
    condition     = var.traffic_step_percent >= 1 && var.traffic_step_percent <= 50
    error_message = "traffic_step_percent must be between 1 and 50."
  }
}

variable "traffic_wait_interval_in_seconds" {
  description = "Baking time between traffic shifts while the rollback alarms are watched."
  type        = number
  default     = 300

  validation {
    condition     = var.traffic_wait_interval_in_seconds >= 0 && var.traffic_wait_interval_in_seconds <= 3600
    error_message = "traffic_wait_interval_in_seconds must be between 0 and 3600."
  }

  validation {
    condition     = var.environment != "prod" || var.traffic_wait_interval_in_seconds >= 300
    error_message = "prod requires traffic_wait_interval_in_seconds >= 300, so the rollback alarms have time to fire."
  }
}

################################################################################
# Monitoring
################################################################################

variable "alarm_email" {
  description = "Email subscribed to the alarm topic (confirm the subscription from the mailbox). In prod, this or alarm_action_arns is required."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alarm_email, "-")))
    error_message = "alarm_email must be null or an email address."
  }
}

variable "alarm_action_arns" {
  description = "Extra alarm and OK actions, such as an on-call SNS topic."
  type        = list(string)
  default     = []

  validation {
    condition     = var.environment != "prod" || var.alarm_email != null || length(var.alarm_action_arns) > 0
    error_message = "prod requires alarms with an action someone receives: set alarm_email or alarm_action_arns."
  }
}

variable "log_retention_days" {
  description = "Retention of the endpoint's log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 365, 400, 545, 731, ...)."
  }

  validation {
    condition     = var.environment != "prod" || var.log_retention_days >= 365
    error_message = "prod requires log_retention_days >= 365."
  }
}

variable "model_latency_p99_threshold_ms" {
  description = "p99 ModelLatency (ms) above which the latency alarm fires and a blue/green update rolls back."
  type        = number
  default     = 1000

  validation {
    condition     = var.model_latency_p99_threshold_ms > 0 && var.model_latency_p99_threshold_ms <= 60000
    error_message = "model_latency_p99_threshold_ms must be in (0, 60000]."
  }
}

variable "invocation_5xx_errors_threshold" {
  description = "Invocation5XXErrors per minute at or above which the error alarm fires and a blue/green update rolls back."
  type        = number
  default     = 1

  validation {
    condition     = var.invocation_5xx_errors_threshold >= 1
    error_message = "invocation_5xx_errors_threshold must be at least 1."
  }
}

variable "invocation_4xx_errors_threshold" {
  description = "Invocation4XXErrors per minute at or above which the client-error alarm fires."
  type        = number
  default     = 50

  validation {
    condition     = var.invocation_4xx_errors_threshold >= 1
    error_message = "invocation_4xx_errors_threshold must be at least 1."
  }
}

variable "cpu_utilization_threshold_percent" {
  description = "Average CPU, in percent of the instance's total vCPU capacity, above which the CPU alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_utilization_threshold_percent > 0 && var.cpu_utilization_threshold_percent <= 100
    error_message = "cpu_utilization_threshold_percent must be in (0, 100]."
  }
}

variable "memory_utilization_threshold_percent" {
  description = "Average memory use, in percent, above which the memory alarm fires."
  type        = number
  default     = 85

  validation {
    condition     = var.memory_utilization_threshold_percent > 0 && var.memory_utilization_threshold_percent <= 100
    error_message = "memory_utilization_threshold_percent must be in (0, 100]."
  }
}

################################################################################
# IAM
################################################################################

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to the training, hosting and batch-transform roles (null for none)."
  type        = string
  default     = null
}

variable "create_batch_transform_role" {
  description = "Create the role used by batch transform jobs (see examples/batch-transform)."
  type        = bool
  default     = true
}
