"""Outreach tables: email sequences and messages (`sending`), operator tasks (`operator_tasks`)."""

from .operator_tasks import *  # noqa: F403
from .sending import *  # noqa: F403
