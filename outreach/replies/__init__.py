"""Replies to our outreach: classifying them (categories, classifier, rules, llm) and the reply inbox.

Import from the modules themselves; this package re-exports nothing so each module's imports stay
cheap and explicit."""
