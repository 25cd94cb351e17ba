"""api for email sending."""
