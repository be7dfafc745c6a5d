terraform {
  # 1.9: validations that refer to other variables (cpu/memory pairs).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 6.0"
    }
  }
}
