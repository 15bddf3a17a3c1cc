"""``python -m terraform_provider``: what the launcher in the mirror runs."""

from terraform_provider.plugin import serve

raise SystemExit(serve())
