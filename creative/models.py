"""Tables of the creative app."""
