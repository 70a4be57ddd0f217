output "training_role_arn" {
  description = "ARN of the training role (RoleArn of CreateTrainingJob)."
  value       = aws_iam_role.training.arn

  # Callers must not start jobs before the role can read and write anything.
  depends_on = [aws_iam_role_policy.training]
}

output "training_role_name" {
  description = "Name of the training role."
  value       = aws_iam_role.training.name
}

output "hosting_role_arn" {
  description = "ARN of the hosting role (ExecutionRoleArn of the SageMaker model)."
  value       = aws_iam_role.hosting.arn

  # The model must not be created before the role may pull the image and read the model.
  depends_on = [aws_iam_role_policy.hosting]
}

output "hosting_role_name" {
  description = "Name of the hosting role."
  value       = aws_iam_role.hosting.name
}

output "batch_transform_role_arn" {
  description = "ARN of the batch-transform role, or null when it is not created."
  value       = try(aws_iam_role.batch_transform[0].arn, null)

  depends_on = [aws_iam_role_policy.batch_transform]
}

output "batch_transform_role_name" {
  description = "Name of the batch-transform role, or null when it is not created."
  value       = try(aws_iam_role.batch_transform[0].name, null)
}
