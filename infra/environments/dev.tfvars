# Development: one small instance, keys created by the stack, short log retention.
# Usage: terraform plan -var-file=environments/dev.tfvars -var image_digest=sha256:... -var model_version=...

aws_region  = "eu-west-1"
environment = "dev"

# Set by the release pipeline or on the command line for every rollout:
image_digest  = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
model_version = "v1"

inference_type         = "real-time"
instance_type          = "ml.c5.large"
initial_instance_count = 1

autoscaling_enabled             = true
autoscaling_min_capacity        = 1
autoscaling_max_capacity        = 2
target_invocations_per_instance = 3000

data_capture_enabled             = true
data_capture_sampling_percentage = 20

traffic_routing_type             = "ALL_AT_ONCE"
traffic_wait_interval_in_seconds = 120

log_retention_days = 30
force_destroy      = true

container_environment = {
  RUST_LOG = "info"
}
