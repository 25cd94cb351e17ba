"""selectors for email sending."""
