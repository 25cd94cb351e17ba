"""Sequences, enrollments, messages and their events."""
