"""What makes one worker's claims and calls cheaper (issue 16, docs/PERFORMANCE.md): a run's claims
carry the reads nothing but a pause, a kill or the run itself changes, and an HTTP API's session
reads the environment once per connection instead of once per email."""

from __future__ import annotations

import pytest
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CampaignState
from campaigns.services.system_pause import set_system_pause
from outreach.models import Message, MessageState
from outreach.services.sending.claims import RunReads, SendStats, _claim_slice
from outreach.services.sending.delivery import _record_calls
from outreach.services.sending.provider import _read_environment_once
from tests.outreach.sending.test_sending import prepare


def _claim(campaign, reads, queue, size=2):
    return _claim_slice(
        campaign_id=campaign.pk,
        now=timezone.now(),
        dry_run=False,
        size=size,
        chunk=100,
        queue=queue,
        reads=reads,
    )


def test_a_runs_later_claims_lock_the_campaign_lock_the_due_and_mark_them_sending(live_campaign):
    """Contactability is read in the query that locks the due messages; the policy, the schedule
    and today's count are carried from the run's earlier claim: three statements per claim."""
    campaign, sequence = live_campaign(leads=8, cap=100)
    prepare(campaign, sequence)
    reads, queue = RunReads(), []
    assert len(_claim(campaign, reads, queue).messages) == 2
    with CaptureQueriesContext(connection) as queries:
        claim = _claim(campaign, reads, queue)
    assert len(claim.messages) == 2
    statements = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == 3, statements
    assert Message.objects.filter(state=MessageState.SENDING).count() == 4


def test_carried_reads_still_stop_at_a_pause_a_kill_and_the_daily_cap(live_campaign, operator):
    campaign, sequence = live_campaign(leads=8, cap=5)
    prepare(campaign, sequence)
    reads, queue = RunReads(), []
    assert len(_claim(campaign, reads, queue).messages) == 2
    set_system_pause(paused=True, actor=operator, rationale="test")
    assert _claim(campaign, reads, queue).gate.reason == "system pause is on"
    set_system_pause(paused=False, actor=operator, rationale="test")
    # the cap (5) binds this claim: today's count is read afresh, it takes 3 and reports the cap
    claim = _claim(campaign, reads, queue, size=4)
    assert len(claim.messages) == 3 and claim.gate.room == 3
    assert _claim(campaign, reads, queue).gate.cap_reached
    # a claim given back (a call that never started) makes room again, seen by the next claim
    Message.objects.filter(pk=claim.messages[0].pk).update(state=MessageState.SCHEDULED)
    assert len(_claim(campaign, reads, queue).messages) == 1
    type(campaign).objects.filter(pk=campaign.pk).update(state=CampaignState.PAUSED)
    assert _claim(campaign, reads, queue).gate.reason == "campaign is paused"


def test_claims_given_back_are_claimed_again_not_postponed_by_their_own_domain(live_campaign, settings):
    """A claim whose calls never started goes back to scheduled; the run's carried domains still
    counted it, so with one email a company domain a day it postponed that very message to
    tomorrow (seen with 8 cycles sharing 16 threads). Giving back makes the next claim read afresh."""
    settings.AICMO_DOMAIN_DAILY_LIMIT = 1
    campaign, sequence = live_campaign(leads=4, cap=100)
    prepare(campaign, sequence)
    reads, queue = RunReads(), []
    claim = _claim(campaign, reads, queue)
    assert len(claim.messages) == 2
    _record_calls(campaign, [(message, None) for message in claim.messages], timezone.now(), SendStats())
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 4  # given back
    reads.forget()  # what a run does when it gives claims back (delivery.send_due_messages)
    again = _claim(campaign, reads, queue, size=4)
    assert {m.pk for m in again.messages} == {m.pk for m in Message.objects.all()}
    assert again.routing.skip_reasons["domain_limit"] == 0


@pytest.fixture
def postmark(settings):
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "token", "POSTMARK_API_URL": "https://esp.example/"}
    backend = PostmarkBackend()
    backend.open()
    yield backend
    backend.close()


def test_an_http_session_keeps_the_environments_proxy_and_bundle_read_once(postmark, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "other.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    _read_environment_once(postmark)
    session = postmark.session
    assert not session.trust_env  # no look-up per email from now on
    sent_with = session.merge_environment_settings(postmark.api_url + "email", {}, None, None, None)
    assert sent_with["proxies"]["https"] == "http://proxy.internal:3128"
    assert sent_with["verify"] == "/etc/ssl/bundle.pem"


def test_a_host_the_environment_exempts_from_the_proxy_stays_direct(postmark, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "esp.example")
    _read_environment_once(postmark)
    sent_with = postmark.session.merge_environment_settings(postmark.api_url + "email", {}, None, None, None)
    assert "https" not in sent_with["proxies"]
