from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignState
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import transition_campaign
from tests.factories import CampaignFactory, ClientUserFactory, StaffUserFactory, token_for

FIXED_NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday, 10:00 UTC


@pytest.fixture
def frozen_now():
    """Pin the clock: timezone.now() is FIXED_NOW until the test moves it (traveller.shift/move_to)."""
    with time_machine.travel(FIXED_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def operator(db):
    return StaffUserFactory()


@pytest.fixture
def client_user(db):
    return ClientUserFactory()


@pytest.fixture
def other_client_user(db):
    return ClientUserFactory()


def _api(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


@pytest.fixture
def api_as():
    return _api


# Path through the lifecycle to reach each state, via the services.
PATH_TO_STATE: dict[str, list[str]] = {
    CampaignState.DRAFT: [],
    CampaignState.PLANNING: ["start_planning"],
    CampaignState.AWAITING_APPROVAL: ["start_planning", "submit_for_approval"],
    CampaignState.APPROVED: ["start_planning", "submit_for_approval", "approve"],
    CampaignState.ACTIVE: ["start_planning", "submit_for_approval", "approve", "activate"],
    CampaignState.PAUSED: ["start_planning", "submit_for_approval", "approve", "activate", "pause"],
    CampaignState.COMPLETED: ["start_planning", "submit_for_approval", "approve", "activate", "complete"],
    CampaignState.CANCELLED: ["kill"],
}


@pytest.fixture
def campaign_in_state(db):
    def make(state: str = CampaignState.DRAFT, **fields) -> Campaign:
        campaign = CampaignFactory(**fields)
        if "approve" in PATH_TO_STATE[state]:
            # These campaigns exercise the lifecycle alone: their client's policy waives the strategy
            # approval that real campaigns need before going live (strategy tests cover that rule).
            set_compliance_policy(client=campaign.client, require_strategy_approval=False)
        for step in PATH_TO_STATE[state]:
            campaign = transition_campaign(campaign=campaign, transition=step, rationale="test set-up")
        return campaign

    return make


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL=redis://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached look-ups must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _send_runs_on_a_quiet_machine(settings):
    """Send runs batch more when the machine's CPUs are busy (sending.window.MachineLoad), and the
    test machine's are, now and then: the tests that count claims and records pin it quiet
    (tests/outreach/sending/test_send_run_economy.py sets it busy where that is the point)."""
    from outreach.services.sending.window import MACHINE_LOAD

    settings.OUTREACH_BUSY_MACHINE_CPU = 0
    MACHINE_LOAD.forget()
    yield


@pytest.fixture(autouse=True)
def _unpaced_sends(settings):
    """Pacing (docs/senders.md §4) off: most tests send several emails from one mailbox, or to one
    company, in one cycle. Its own tests (tests/outreach/senders/test_pacing.py) turn it on."""
    settings.AICMO_MAILBOX_MIN_GAP_SECONDS = 0
    settings.AICMO_MAILBOX_GAP_JITTER_SECONDS = 0
    settings.AICMO_DOMAIN_DAILY_LIMIT = 0


@pytest.fixture(autouse=True)
def _spam_scoring_off(settings):
    """SpamAssassin takes ~0.7 s per email creative: off for the suite, whose tests create hundreds;
    its own tests (tests/creative/test_spam_check.py) turn it on."""
    settings.AICMO_SPAM_SCORE_MAX = None


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's million rounds cost ~0.5 s per user; tests need a password, not its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


pytest_plugins = ["tests.role_fixtures"]
