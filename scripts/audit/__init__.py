"""Runs graphql-hive/federation-gateway-audit against this router (see README.md here)."""
