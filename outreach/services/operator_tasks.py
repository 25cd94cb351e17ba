"""services for operator tasks."""
