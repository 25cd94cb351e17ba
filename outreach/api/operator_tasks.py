"""api for operator tasks."""
