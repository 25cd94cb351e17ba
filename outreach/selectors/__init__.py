"""Outreach selectors, one module per concern: ``sending`` and ``operator_tasks``. Import from those
modules."""
