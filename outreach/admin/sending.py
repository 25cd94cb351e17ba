"""admin for email sending."""
