"""A stand-in for hashicorp/kubernetes 2.38.0 that real Terraform installs and runs.

It serves the provider's real schema (``kubernetes_schema.json``) over the plugin
protocol and keeps objects in a JSON file instead of a cluster; see
docs/terraform.md for what it does and does not stand in for.
"""
