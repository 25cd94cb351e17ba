"""Outreach services, split by concern: sending, the campaign cycle, and operator tasks."""

from .cycle import *  # noqa: F403
from .erasure import *  # noqa: F403
from .operator_tasks import *  # noqa: F403
from .retention import *  # noqa: F403
from .sending import *  # noqa: F403
from .tracking import *  # noqa: F403
