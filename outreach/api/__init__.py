"""Outreach api, split by concern: sending and operator tasks."""

from .operator_tasks import *  # noqa: F403
from .sending import *  # noqa: F403
