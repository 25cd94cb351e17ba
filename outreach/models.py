"""Tables of the outreach app."""
