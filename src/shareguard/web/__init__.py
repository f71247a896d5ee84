"""HTTP API (and, later, the portal)."""
