"""The only code that writes creative tables: generation, checks, review decisions, edits, and the
test sends of creative (audited, never outreach). One module per concern; import from here.

- ``generation``: generate_creatives (briefs and checked drafts from the approved strategy)
- ``review``: submit / approve / request changes / reject, ensure_creative_sendable
- ``editing``: edit_creative (in place or a new version; the HTML part follows the text)
- ``rendering``: render_creative, render_for_lead, html_differences
- ``test_send``: send_test_email ("send a test to me")
- ``common``: the editable fields, running the checks
"""

from .common import EDITABLE_CONTENT, apply_checks
from .editing import edit_creative
from .generation import LLM_COST_ESTIMATE, MAX_VARIANTS, MIN_VARIANTS, SOCIAL, generate_creatives
from .rendering import (
    SAMPLE_LEAD,
    SAMPLE_SENDER,
    LeadNotInCampaignError,
    RenderedCreative,
    html_differences,
    render_creative,
    render_for_lead,
)
from .review import (
    DECISIONS,
    approve_creative,
    ensure_creative_sendable,
    reject_creative,
    request_creative_changes,
    submit_creative_for_review,
)
from .test_send import TestSendLimitError, TestSendResult, send_test_email

__all__ = [
    "DECISIONS",
    "EDITABLE_CONTENT",
    "LLM_COST_ESTIMATE",
    "MAX_VARIANTS",
    "MIN_VARIANTS",
    "SAMPLE_LEAD",
    "SAMPLE_SENDER",
    "SOCIAL",
    "LeadNotInCampaignError",
    "RenderedCreative",
    "TestSendLimitError",
    "TestSendResult",
    "apply_checks",
    "approve_creative",
    "edit_creative",
    "ensure_creative_sendable",
    "generate_creatives",
    "html_differences",
    "reject_creative",
    "render_creative",
    "render_for_lead",
    "request_creative_changes",
    "send_test_email",
    "submit_creative_for_review",
]
