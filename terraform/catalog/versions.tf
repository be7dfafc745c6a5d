terraform {
  # The catalog is data only: no provider, no resources.
  required_version = ">= 1.9"
}
