################################################################################
# Identity and model
################################################################################

variable "name" {
  description = "Endpoint name. Also the prefix of the model and endpoint-configuration names, hence at most 36 characters (name_prefix plus Terraform's 26-character suffix must fit in 63)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,35}$", var.name))
    error_message = "name must be 1-36 alphanumerics and hyphens, starting and ending with an alphanumeric."
  }
}

variable "execution_role_arn" {
  description = "ARN of the hosting role SageMaker assumes to pull the image, read the model and write logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "image_repository_url" {
  description = "ECR repository URL of the rcf image, without tag or digest (<account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+$", var.image_repository_url))
    error_message = "image_repository_url must be an ECR repository URL without tag or digest."
  }
}

variable "image_digest" {
  description = "Digest of the image to run (sha256:<64 hex>). The model is pinned by digest, never by tag."
  type        = string

  validation {
    condition     = can(regex("^sha256:[a-f0-9]{64}$", var.image_digest))
    error_message = "image_digest must look like sha256:<64 lowercase hex characters>."
  }
}

variable "model_version" {
  description = "Model version; part of the model name so a new version always rolls the endpoint."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$", var.model_version))
    error_message = "model_version must be 1-32 alphanumerics and hyphens, starting and ending with an alphanumeric."
  }
}

variable "model_data_url" {
  description = "S3 URL of the model archive, s3://<bucket>/models/<version>/model.tar.gz. It must be one .tar.gz in the endpoint's region."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be s3://<bucket>/<key>.tar.gz."
  }
}

variable "container_environment" {
  description = "Environment variables of the container (for example RUST_LOG). SageMaker sets SAGEMAKER_BIND_TO_PORT itself."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.container_environment) <= 16 && alltrue([for k in keys(var.container_environment) : can(regex("^[a-zA-Z_][a-zA-Z0-9_]*$", k)) && length(k) <= 1024])
    error_message = "container_environment allows at most 16 variables with names made of letters, digits and underscores."
  }
}

################################################################################
# Variant
################################################################################

variable "inference_type" {
  description = "\"real-time\" (instances, network isolation, autoscaling, data capture) or \"serverless\" (memory size and max concurrency; AWS allows neither network isolation nor data capture there)."
  type        = string
  default     = "real-time"

  validation {
    condition     = contains(["real-time", "serverless"], var.inference_type)
    error_message = "inference_type must be \"real-time\" or \"serverless\"."
  }
}

variable "variant_name" {
  description = "Production variant name. Keep it stable: the autoscaling resource id and the alarms embed it, and blue/green updates require the same name."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "variant_name must be 1-63 alphanumerics and hyphens."
  }
}

variable "instance_type" {
  description = "Instance type of the real-time variant. CPU families without local NVMe storage only, so the volume can always be KMS-encrypted."
  type        = string
  default     = "ml.c5.large"

  validation {
    condition     = can(regex("^ml\\.(t3\\.(medium|large|xlarge|2xlarge)|(c5|c6i|c7i|m5|m6i|m7i|r5|r6i|r7i)\\.(large|xlarge|[1-9][0-9]?xlarge))$", var.instance_type))
    error_message = "instance_type must be an ml.* CPU type of the t3, c5, c6i, c7i, m5, m6i, m7i, r5, r6i or r7i families (no local-NVMe \"d\" variants)."
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
    condition     = !var.autoscaling_enabled || var.inference_type == "serverless" || (var.initial_instance_count >= var.autoscaling_min_capacity && var.initial_instance_count <= var.autoscaling_max_capacity)
    error_message = "With autoscaling on, initial_instance_count must lie between autoscaling_min_capacity and autoscaling_max_capacity."
  }
}

variable "container_startup_health_check_timeout_in_seconds" {
  description = "How long SageMaker waits for /ping to answer 200 after the container starts (real-time only)."
  type        = number
  default     = 300

  validation {
    condition     = var.container_startup_health_check_timeout_in_seconds >= 60 && var.container_startup_health_check_timeout_in_seconds <= 3600
    error_message = "container_startup_health_check_timeout_in_seconds must be between 60 and 3600."
  }
}

variable "model_data_download_timeout_in_seconds" {
  description = "How long SageMaker may take to download and unpack model.tar.gz (real-time only)."
  type        = number
  default     = 600

  validation {
    condition     = var.model_data_download_timeout_in_seconds >= 60 && var.model_data_download_timeout_in_seconds <= 3600
    error_message = "model_data_download_timeout_in_seconds must be between 60 and 3600."
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
  description = "Provisioned (pre-warmed) concurrency of the serverless variant; null for none. At most serverless_max_concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.serverless_provisioned_concurrency == null || try(var.serverless_provisioned_concurrency >= 1 && var.serverless_provisioned_concurrency <= var.serverless_max_concurrency, false)
    error_message = "serverless_provisioned_concurrency must be null or between 1 and serverless_max_concurrency."
  }
}

################################################################################
# Encryption and data capture
################################################################################

variable "kms_key_arn" {
  description = "KMS key for the ML storage volume of real-time instances and for captured data."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "data_capture_enabled" {
  description = "Capture a sample of requests and responses to data_capture_s3_uri (real-time only: serverless endpoints do not support data capture)."
  type        = bool
  default     = false

  validation {
    condition     = !(var.data_capture_enabled && var.inference_type == "serverless")
    error_message = "Data capture is not supported by serverless endpoints; set data_capture_enabled = false or use a real-time variant."
  }
}

variable "data_capture_sampling_percentage" {
  description = "Percentage of invocations captured."
  type        = number
  default     = 10

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100
    error_message = "data_capture_sampling_percentage must be between 0 and 100."
  }
}

variable "data_capture_s3_uri" {
  description = "Destination of captured data, s3://<bucket>/data-capture/<endpoint>. Required when data_capture_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.data_capture_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.data_capture_s3_uri))
    error_message = "data_capture_s3_uri must be null or an s3:// URI."
  }

  validation {
    condition     = !var.data_capture_enabled || var.data_capture_s3_uri != null
    error_message = "data_capture_s3_uri is required when data_capture_enabled is true."
  }
}

################################################################################
# Autoscaling (real-time only)
################################################################################

variable "autoscaling_enabled" {
  description = "Register the real-time variant with Application Auto Scaling and track SageMakerVariantInvocationsPerInstance. Disable it before changing instance_type."
  type        = bool
  default     = true
}

variable "autoscaling_min_capacity" {
  description = "Minimum instance count kept by autoscaling."
  type        = number
  default     = 1

  validation {
    condition     = var.autoscaling_min_capacity >= 1 && var.autoscaling_min_capacity <= 20
    error_message = "autoscaling_min_capacity must be between 1 and 20."
  }
}

variable "autoscaling_max_capacity" {
  description = "Maximum instance count autoscaling may reach."
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
  description = "Target of SageMakerVariantInvocationsPerInstance (invocations per minute per instance). Size it as measured max RPS x 0.5 x 60."
  type        = number
  default     = 3000

  validation {
    condition     = var.target_invocations_per_instance >= 1 && var.target_invocations_per_instance <= 1000000
    error_message = "target_invocations_per_instance must be between 1 and 1000000."
  }
}

variable "scale_in_cooldown_seconds" {
  description = "Seconds after a scale-in before another scale-in."
  type        = number
  default     = 300

  validation {
    condition     = var.scale_in_cooldown_seconds >= 0 && var.scale_in_cooldown_seconds <= 3600
    error_message = "scale_in_cooldown_seconds must be between 0 and 3600."
  }
}

variable "scale_out_cooldown_seconds" {
  description = "Seconds after a scale-out before another scale-out."
  type        = number
  default     = 60

  validation {
    condition     = var.scale_out_cooldown_seconds >= 0 && var.scale_out_cooldown_seconds <= 3600
    error_message = "scale_out_cooldown_seconds must be between 0 and 3600."
  }
}

################################################################################
# Blue/green deployment
################################################################################

variable "traffic_routing_type" {
  description = "How blue/green updates shift traffic: ALL_AT_ONCE, CANARY or LINEAR. CANARY and LINEAR need a real-time variant with at least 2 instances."
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
  description = "Canary size, or linear step size, as a percentage of the new fleet's capacity."
  type        = number
  default     = 25

  validation {
    condition     = var.traffic_step_percent >= 1 && var.traffic_step_percent <= 50
    error_message = "traffic_step_percent must be between 1 and 50."
  }
}

variable "traffic_wait_interval_in_seconds" {
  description = "Baking period between traffic shifts, during which the rollback alarms are watched."
  type        = number
  default     = 300

  validation {
    condition     = var.traffic_wait_interval_in_seconds >= 0 && var.traffic_wait_interval_in_seconds <= 3600
    error_message = "traffic_wait_interval_in_seconds must be between 0 and 3600."
  }
}

variable "termination_wait_in_seconds" {
  description = "How long the old fleet is kept after all traffic moved, so a late alarm can still roll back."
  type        = number
  default     = 300

  validation {
    condition     = var.termination_wait_in_seconds >= 0 && var.termination_wait_in_seconds <= 3600
    error_message = "termination_wait_in_seconds must be between 0 and 3600."
  }
}

variable "maximum_execution_timeout_in_seconds" {
  description = "Upper bound of a blue/green update; SageMaker rolls back when it is exceeded."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_execution_timeout_in_seconds >= 600 && var.maximum_execution_timeout_in_seconds <= 14400
    error_message = "maximum_execution_timeout_in_seconds must be between 600 and 14400."
  }
}

variable "rollback_alarm_names" {
  description = "CloudWatch alarms that roll a blue/green update back when they fire (at most 10)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.rollback_alarm_names) <= 10
    error_message = "At most 10 rollback alarms are allowed."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
