terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Local state; the check script points it at a temporary file with -backend-config="path=...".
  backend "local" {}
}
