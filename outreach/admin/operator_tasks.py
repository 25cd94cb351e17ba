"""admin for operator tasks."""
