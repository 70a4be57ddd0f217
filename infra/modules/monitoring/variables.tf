variable "name" {
  description = "Prefix of the alarm, dashboard and topic names."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1-200 letters, digits, hyphens or underscores."
  }
}

variable "endpoint_name" {
  description = "Name of the monitored endpoint (the EndpointName metric dimension)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 alphanumerics and hyphens."
  }
}

variable "variant_name" {
  description = "Name of the monitored production variant (the VariantName metric dimension)."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "variant_name must be 1-63 alphanumerics and hyphens."
  }
}

variable "inference_type" {
  description = "\"real-time\" or \"serverless\". CPU and memory alarms exist only for real-time instances."
  type        = string
  default     = "real-time"

  validation {
    condition     = contains(["real-time", "serverless"], var.inference_type)
    error_message = "inference_type must be \"real-time\" or \"serverless\"."
  }
}

variable "instance_type" {
  description = "Instance type of the real-time variant; its vCPU count scales the CPU alarm (SageMaker reports CPUUtilization summed over vCPUs)."
  type        = string
  default     = "ml.c5.large"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.(medium|large|[0-9]*xlarge)$", var.instance_type))
    error_message = "instance_type must look like ml.<family>.<size>."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the SNS topic and the log group. When null the module creates one whose policy lets CloudWatch alarms and CloudWatch Logs use it. A key passed in needs the same grants."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
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

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (the subscription must be confirmed from the mailbox). Null for none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an email address."
  }
}

variable "alarm_action_arns" {
  description = "Additional alarm and OK actions (for example an on-call SNS topic). The module's own topic is always an action."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_action_arns : startswith(arn, "arn:")])
    error_message = "alarm_action_arns must contain ARNs."
  }
}

variable "log_retention_days" {
  description = "Retention of the endpoint's CloudWatch log group /aws/sagemaker/Endpoints/<endpoint>."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "alarm_period_seconds" {
  description = "Period of every alarm's metric."
  type        = number
  default     = 60

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "alarm_evaluation_periods" {
  description = "Number of recent periods every alarm looks at."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_evaluation_periods <= 60
    error_message = "alarm_evaluation_periods must be between 1 and 60."
  }
}

variable "alarm_datapoints_to_alarm" {
  description = "How many of the evaluated periods must breach before an alarm fires."
  type        = number
  default     = 3

  validation {
    condition     = var.alarm_datapoints_to_alarm >= 1 && var.alarm_datapoints_to_alarm <= var.alarm_evaluation_periods
    error_message = "alarm_datapoints_to_alarm must be between 1 and alarm_evaluation_periods."
  }
}

variable "invocation_5xx_errors_threshold" {
  description = "Invocation5XXErrors per period at or above which the alarm fires. This alarm also rolls back blue/green updates."
  type        = number
  default     = 1

  validation {
    condition     = var.invocation_5xx_errors_threshold >= 1
    error_message = "invocation_5xx_errors_threshold must be at least 1."
  }
}

variable "invocation_4xx_errors_threshold" {
  description = "Invocation4XXErrors per period at or above which the alarm fires (malformed requests from clients)."
  type        = number
  default     = 50

  validation {
    condition     = var.invocation_4xx_errors_threshold >= 1
    error_message = "invocation_4xx_errors_threshold must be at least 1."
  }
}

variable "model_latency_p99_threshold_ms" {
  description = "p99 of ModelLatency, in milliseconds, above which the alarm fires. This alarm also rolls back blue/green updates."
  type        = number
  default     = 1000

  validation {
    condition     = var.model_latency_p99_threshold_ms > 0 && var.model_latency_p99_threshold_ms <= 60000
    error_message = "model_latency_p99_threshold_ms must be in (0, 60000]: invocations time out after 60 s."
  }
}

variable "cpu_utilization_threshold_percent" {
  description = "Average CPU use, as a percentage of the instance's total vCPU capacity, above which the alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_utilization_threshold_percent > 0 && var.cpu_utilization_threshold_percent <= 100
    error_message = "cpu_utilization_threshold_percent must be in (0, 100]."
  }
}

variable "memory_utilization_threshold_percent" {
  description = "Average memory use, in percent, above which the alarm fires."
  type        = number
  default     = 85

  validation {
    condition     = var.memory_utilization_threshold_percent > 0 && var.memory_utilization_threshold_percent <= 100
    error_message = "memory_utilization_threshold_percent must be in (0, 100]."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
