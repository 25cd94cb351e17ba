"""services for email sending."""
