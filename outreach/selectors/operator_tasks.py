"""selectors for operator tasks."""
