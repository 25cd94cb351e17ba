"""Tables of the leads app."""
