provider "aws" {
  region = var.aws_region

  # Refuse to run against any other account (guards against applying prod with a dev profile).
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = merge(
      {
        Project     = "rcf"
        Environment = var.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}
