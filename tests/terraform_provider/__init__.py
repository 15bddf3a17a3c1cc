"""A stand-in for hashicorp/kubernetes 2.38.0, 3.4.0 and 3.5.0 that real Terraform runs.

It serves each version's real schema (``kubernetes_schema.json``, and
``kubernetes_schema_3.json`` with the 3.x Plugin Framework behaviours noted
there: null map values and Role name+generate_name rejected, Role import ids
need a namespace; not MoveResourceState, which the protocol stubs predate) over the plugin
protocol and keeps objects in a JSON file instead of a cluster; see
docs/terraform.md for what it does and does not stand in for.
"""
