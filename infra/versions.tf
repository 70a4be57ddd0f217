terraform {
  # 1.10+: S3 backend native locking (use_lockfile) and cross-variable validation rules.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.21.0 fixes endpoint updates that kept the old endpoint configuration
      # (hashicorp/terraform-provider-aws#40048, fixed by #42843).
      version = "~> 6.21"
    }
  }

  # Partial configuration: pass the rest with
  #   terraform init -backend-config=environments/<env>.s3.tfbackend
  # (see environments/backend.s3.tfbackend.example).
  backend "s3" {}
}
