"""Outreach API, one module per concern: ``sending`` (cycle runs and previews) and ``operator_tasks``.
``outreach.urls`` imports the views from those modules."""
