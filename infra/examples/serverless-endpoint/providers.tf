provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project   = "rcf"
      ManagedBy = "terraform"
      Example   = "serverless-endpoint"
    }
  }
}
