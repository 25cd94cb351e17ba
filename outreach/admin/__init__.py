"""Outreach admin, split by concern: sending and operator tasks."""

from .campaign_links import campaign_outreach_links  # noqa: F401  (registers the campaign page links)
from .operator_tasks import *  # noqa: F403
from .sending import *  # noqa: F403
