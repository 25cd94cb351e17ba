"""Tables of the strategy app."""
