# The variables every task definition of an environment starts with (main.tf adds the export
# bucket and the environment's own container_environment over them). A file of its own so that
# scripts/check-image.sh reads them through Terraform (.github/scripts/tf-eval.sh file ...) and
# runs the batches in the image with exactly these.
locals {
  container_environment_defaults = {
    DATABASE_MAX_CONNECTIONS = "4"
    LOG_FORMAT               = "json"
    RUST_LOG                 = "info"
  }
}
