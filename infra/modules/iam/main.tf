data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  bucket_arn = var.artifacts_bucket_arn
  log_group_arn_prefix = join(":", [
    "arn", data.aws_partition.current.partition, "logs", data.aws_region.current.region,
    data.aws_caller_identity.current.account_id, "log-group",
  ])

  # SageMaker writes container logs to these groups; each role may write only to its own.
  training_log_group  = "${local.log_group_arn_prefix}:/aws/sagemaker/TrainingJobs"
  hosting_log_group   = "${local.log_group_arn_prefix}:/aws/sagemaker/Endpoints/${var.endpoint_name}"
  transform_log_group = "${local.log_group_arn_prefix}:/aws/sagemaker/TransformJobs"

  log_actions = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
  ]

  ecr_pull_actions = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
  ]
}

################################################################################
# Trust policy shared by the roles: only SageMaker may assume them
################################################################################

data "aws_iam_policy_document" "sagemaker_trust" {
  statement {
    sid     = "SageMakerAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

################################################################################
# Statements every SageMaker job or endpoint of this image needs
################################################################################

data "aws_iam_policy_document" "common" {
  # AWS documents these two actions as not supporting resource-level permissions:
  # GetAuthorizationToken returns a registry-wide token and PutMetricData has no resource.
  statement {
    sid = "ActionsWithoutResourceLevelPermissions"
    actions = [
      "cloudwatch:PutMetricData",
      "ecr:GetAuthorizationToken",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "PullRcfImage"
    actions   = local.ecr_pull_actions
    resources = [var.ecr_repository_arn]
  }

  # Every job and endpoint encrypts its volumes with the artifacts key.
  statement {
    sid       = "EncryptVolumesWithArtifactsKey"
    actions   = ["kms:CreateGrant"]
    resources = [var.artifacts_kms_key_arn]

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

################################################################################
# Training role: reads the training prefix, writes the output prefix
################################################################################

data "aws_iam_policy_document" "training" {
  source_policy_documents = [data.aws_iam_policy_document.common.json]

  statement {
    sid       = "TrainingLogs"
    actions   = local.log_actions
    resources = [local.training_log_group, "${local.training_log_group}:*"]
  }

  statement {
    sid       = "ListTrainingPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.training_input_prefix}*", "${var.training_output_prefix}*"]
    }
  }

  statement {
    sid       = "ReadTrainingInput"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.training_input_prefix}*"]
  }

  statement {
    sid       = "WriteTrainingOutput"
    actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
    resources = ["${local.bucket_arn}/${var.training_output_prefix}*"]
  }

  statement {
    sid       = "UseArtifactsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.artifacts_kms_key_arn]
  }
}

resource "aws_iam_role" "training" {
  name                 = "${var.name_prefix}-training"
  description          = "SageMaker training jobs of the rcf image"
  assume_role_policy   = data.aws_iam_policy_document.sagemaker_trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "training" {
  name   = "rcf-training"
  role   = aws_iam_role.training.id
  policy = data.aws_iam_policy_document.training.json
}

################################################################################
# Hosting role: reads one model prefix, pulls one repository, writes logs and metrics
################################################################################

data "aws_iam_policy_document" "hosting" {
  source_policy_documents = [data.aws_iam_policy_document.common.json]

  statement {
    sid       = "EndpointLogs"
    actions   = local.log_actions
    resources = [local.hosting_log_group, "${local.hosting_log_group}:*"]
  }

  statement {
    sid       = "ListModels"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.models_prefix}*"]
    }
  }

  statement {
    sid       = "ReadModels"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.models_prefix}*"]
  }

  dynamic "statement" {
    for_each = var.data_capture_prefix == null ? [] : [var.data_capture_prefix]

    content {
      sid       = "WriteDataCapture"
      actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
      resources = ["${local.bucket_arn}/${statement.value}*"]
    }
  }

  statement {
    sid       = "UseArtifactsKey"
    actions   = var.data_capture_prefix == null ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.artifacts_kms_key_arn]
  }
}

resource "aws_iam_role" "hosting" {
  name                 = "${var.name_prefix}-hosting"
  description          = "SageMaker model execution role of the ${var.endpoint_name} endpoint"
  assume_role_policy   = data.aws_iam_policy_document.sagemaker_trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "hosting" {
  name   = "rcf-hosting"
  role   = aws_iam_role.hosting.id
  policy = data.aws_iam_policy_document.hosting.json
}

################################################################################
# Batch-transform role: reads batch input and models, writes batch output
################################################################################

data "aws_iam_policy_document" "batch_transform" {
  count = var.create_batch_transform_role ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.common.json]

  statement {
    sid       = "TransformLogs"
    actions   = local.log_actions
    resources = [local.transform_log_group, "${local.transform_log_group}:*"]
  }

  statement {
    sid       = "ListBatchInputAndModels"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.batch_input_prefix}*", "${var.models_prefix}*"]
    }
  }

  statement {
    sid     = "ReadBatchInputAndModels"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arn}/${var.batch_input_prefix}*",
      "${local.bucket_arn}/${var.models_prefix}*",
    ]
  }

  statement {
    sid       = "WriteBatchOutput"
    actions   = ["s3:AbortMultipartUpload", "s3:PutObject"]
    resources = ["${local.bucket_arn}/${var.batch_output_prefix}*"]
  }

  statement {
    sid       = "UseArtifactsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.artifacts_kms_key_arn]
  }
}

resource "aws_iam_role" "batch_transform" {
  count = var.create_batch_transform_role ? 1 : 0

  name                 = "${var.name_prefix}-batch-transform"
  description          = "SageMaker batch transform jobs of the rcf image"
  assume_role_policy   = data.aws_iam_policy_document.sagemaker_trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "batch_transform" {
  count = var.create_batch_transform_role ? 1 : 0

  name   = "rcf-batch-transform"
  role   = aws_iam_role.batch_transform[0].id
  policy = data.aws_iam_policy_document.batch_transform[0].json
}
