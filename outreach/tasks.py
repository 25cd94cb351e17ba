"""Thin Celery tasks of the outreach app (ids in, a service call, safe to run twice)."""
