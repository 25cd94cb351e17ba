"""The only code that writes this app's tables. Each public function is one audited business action.

briefs (brief validation and normalisation) → generation (batches of variants) → decisions
(select / approve / reject) → planning (plan and calendar) → pipeline (all of it in one transaction).
"""

from .briefs import BRIEF_FIELDS, brief_snapshot, ensure_brief, normalize_brief_fields, save_brief
from .decisions import approve_strategy_variant, reject_strategy_variant, select_strategy_variant
from .generation import StrategyError, build_strategy_request, campaign_duration_days, generate_strategies
from .pipeline import generate_and_approve_strategy
from .planning import CALENDAR_EDITABLE_FIELDS, build_plan_and_calendar, calendar_slots, update_calendar_item

__all__ = [
    "BRIEF_FIELDS",
    "CALENDAR_EDITABLE_FIELDS",
    "StrategyError",
    "approve_strategy_variant",
    "brief_snapshot",
    "build_plan_and_calendar",
    "build_strategy_request",
    "calendar_slots",
    "campaign_duration_days",
    "ensure_brief",
    "generate_and_approve_strategy",
    "generate_strategies",
    "normalize_brief_fields",
    "reject_strategy_variant",
    "save_brief",
    "select_strategy_variant",
    "update_calendar_item",
]
