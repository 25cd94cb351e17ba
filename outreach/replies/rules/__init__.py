"""The offline classifier's rules, one concern per module: the body text (HTML to text, quoted
history), headers and delivery reports, return dates, referred addresses and the phrase lists."""
