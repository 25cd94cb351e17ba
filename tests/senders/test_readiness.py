"""Sender readiness (docs/senders.md): SPF, DKIM, DMARC and MX of the sending domain, served by a
loopback DNS server, gate live email at activation; the daily re-check pauses a failing mailbox."""

from __future__ import annotations

import pytest

from campaigns.errors import TransitionNotAllowedError
from campaigns.models import AuditEvent, CampaignState
from campaigns.permissions import ActionNotPermittedError
from campaigns.services.transitions import activate_campaign
from outreach.models import Message, SendingMailbox
from outreach.readiness_tasks import recheck_sender_readiness as recheck_task
from outreach.services.readiness import (
    check_domain,
    override_mailbox_readiness,
    recheck_sender_readiness,
    resume_mailbox,
    sender_readiness_blockers,
)
from outreach.services.sending.caps import mailbox_room

from .conftest import DOMAIN, ESP_INCLUDE, SELECTOR


def test_a_ready_domain_passes_and_shows_its_dmarc_policy(dns_server):
    result = check_domain(DOMAIN)
    assert result.ready, result.problems
    assert result.dmarc_policy == "quarantine"
    assert result.details["mx"] == "mx.northwind.example"
    # every look-up went to the loopback server
    asked = {name for name, _ in dns_server.queries}
    assert {DOMAIN, f"{SELECTOR}._domainkey.{DOMAIN}", f"_dmarc.{DOMAIN}"} <= asked


def test_readiness_blocks_activation_without_dmarc_and_passes_once_it_is_published(
    dns_server, live_campaign, operator
):
    dmarc = dns_server.records.pop(f"_dmarc.{DOMAIN}")
    with pytest.raises(TransitionNotAllowedError, match=r"DMARC: no DMARC record at _dmarc\.mail\.northwind"):
        activate_campaign(campaign=live_campaign, actor=operator)
    live_campaign.refresh_from_db()
    assert live_campaign.state == CampaignState.APPROVED

    dns_server.records[f"_dmarc.{DOMAIN}"] = dmarc
    assert sender_readiness_blockers(live_campaign) == []
    assert activate_campaign(campaign=live_campaign, actor=operator).state == CampaignState.ACTIVE


def test_a_subdomain_without_its_own_dmarc_is_covered_by_its_parents(dns_server):
    dns_server.records.pop(f"_dmarc.{DOMAIN}")
    dns_server.set("_dmarc.northwind.example", "TXT", ["v=DMARC1; p=reject"])
    result = check_domain(DOMAIN)
    assert result.ready and result.dmarc_policy == "reject"


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (
            lambda s: s.set(DOMAIN, "TXT", ["google-site-verification=x"]),
            "SPF: mail.northwind.example has no SPF record",
        ),
        (
            lambda s: s.set(DOMAIN, "TXT", ["v=spf1 include:other.example ~all"]),
            f"does not include the sending service (include:{ESP_INCLUDE})",
        ),
        (lambda s: s.set(DOMAIN, "TXT", [f"v=spf1 include:{ESP_INCLUDE} +all"]), "ends in +all"),
        (
            lambda s: s.set(DOMAIN, "TXT", ["v=spf1 -all", "v=spf1 ~all"]),
            "has 2 SPF records; receivers accept only one",
        ),
        (
            lambda s: s.remove(f"{SELECTOR}._domainkey.{DOMAIN}"),
            f"DKIM: no key published at {SELECTOR}._domainkey.{DOMAIN} (selector 'aicmo')",
        ),
        (
            lambda s: s.set(f"{SELECTOR}._domainkey.{DOMAIN}", "TXT", ["v=DKIM1; k=rsa; p="]),
            "DKIM: the key at aicmo._domainkey.mail.northwind.example is revoked",
        ),
        (lambda s: s.remove(DOMAIN, "MX"), "MX: mail.northwind.example has no MX record"),
    ],
    ids=[
        "spf-missing",
        "spf-no-include",
        "spf-plus-all",
        "spf-twice",
        "dkim-missing",
        "dkim-revoked",
        "mx-missing",
    ],
)
def test_each_failing_check_says_what_is_wrong(dns_server, live_campaign, operator, break_it, reason):
    break_it(dns_server)
    result = check_domain(DOMAIN)
    assert len(result.problems) == 1 and reason in result.problems[0], result.problems
    with pytest.raises(TransitionNotAllowedError, match="sender readiness of the sender identity"):
        activate_campaign(campaign=live_campaign, actor=operator)


def test_an_spf_include_one_level_down_covers_the_service(dns_server):
    dns_server.set(DOMAIN, "TXT", ["v=spf1 include:_spf.northwind.example -all"])
    dns_server.set("_spf.northwind.example", "TXT", [f"v=spf1 include:{ESP_INCLUDE} -all"])
    assert check_domain(DOMAIN).ready


def test_a_mailbox_is_checked_with_its_own_selector(dns_server, live_campaign, mailbox):
    mailbox.dkim_selector = "s2024"
    mailbox.save()
    reasons = sender_readiness_blockers(live_campaign)
    assert reasons == [
        f"sender readiness of mailbox {mailbox.email}: DKIM: no key published at s2024._domainkey.{DOMAIN} "
        "(selector 's2024')"
    ]


def test_a_campaign_without_mailbox_or_from_address_is_refused(dns_server, live_campaign, operator):
    from campaigns.services.sender_identity import set_sender_identity

    set_sender_identity(target=live_campaign.client, actor=operator, values={"sender_from_email": ""})
    live_campaign.refresh_from_db()
    assert any("no from address" in r for r in sender_readiness_blockers(live_campaign))


def test_dry_runs_and_readiness_switched_off_are_not_checked(dns_server, live_campaign, settings):
    dns_server.records.clear()
    settings.AICMO_SENDER_READINESS_REQUIRED = False
    assert sender_readiness_blockers(live_campaign) == []
    assert dns_server.queries == []


def test_a_dns_server_that_does_not_answer_is_a_problem_not_a_pass(settings, live_campaign):
    settings.AICMO_DNS_NAMESERVERS = "127.0.0.1:9"  # nothing listens: every look-up times out
    settings.AICMO_SENDER_READINESS_REQUIRED = True
    settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS = 0
    settings.AICMO_CHECK_UNSUBSCRIBE_POST = False
    settings.AICMO_DNS_LOOKUP_SECONDS = 0.5
    result = check_domain("nowhere.example")
    assert result.problems == (
        "DNS: no answer from the nameservers (the SPF look-up for nowhere.example timed out)",
    )


def test_the_daily_recheck_pauses_a_failing_mailbox_with_an_audit_event(dns_server, mailbox, approver_role):
    assert recheck_task.apply().get() == {"checked": 1, "paused": 0, "ready": 1}
    dns_server.remove(f"{SELECTOR}._domainkey.{DOMAIN}")

    counts = recheck_sender_readiness()

    assert counts == {"checked": 1, "paused": 1, "ready": 0}
    mailbox.refresh_from_db()
    assert not mailbox.is_active and "DKIM: no key published" in mailbox.paused_reason
    event = AuditEvent.objects.get(verb="mailbox.paused")
    assert event.target_id == str(mailbox.pk)
    assert event.metadata["campaigns"] == [mailbox.sequences.get().campaign_id]
    assert "DKIM" in event.metadata["problems"][0]
    # a paused mailbox has no room: its messages wait
    message = Message(mailbox=mailbox, mailbox_id=mailbox.pk)
    assert mailbox_room([message], mailbox.readiness_checked_at)[mailbox.pk] <= 0
    # and a live campaign sending from it does not activate
    campaign = mailbox.sequences.get().campaign
    assert any("is paused: sender readiness" in r for r in sender_readiness_blockers(campaign))


def test_an_approver_overrides_with_a_rationale_an_operator_may_not(
    dns_server, mailbox, approver_role, operator_role
):
    dns_server.remove(DOMAIN, "MX")
    recheck_sender_readiness()
    mailbox.refresh_from_db()
    assert not mailbox.is_active

    with pytest.raises(ActionNotPermittedError):
        override_mailbox_readiness(mailbox=mailbox, actor=operator_role, rationale="replies go elsewhere")
    overridden = override_mailbox_readiness(
        mailbox=mailbox, actor=approver_role, rationale="Replies go to the ESP's inbound route."
    )
    assert overridden.is_active and overridden.readiness_override_by == approver_role
    event = AuditEvent.objects.get(verb="mailbox.readiness_overridden")
    assert event.rationale == "Replies go to the ESP's inbound route." and event.metadata["resumed"] is True
    # the override holds at the next daily check (still failing) …
    recheck_sender_readiness()
    assert SendingMailbox.objects.get(pk=mailbox.pk).is_active
    # … and ends once the checks pass: the next failure pauses again
    dns_server.set(DOMAIN, "MX", ["10 mx.northwind.example."])
    recheck_sender_readiness()
    assert SendingMailbox.objects.get(pk=mailbox.pk).readiness_override == ""


def test_a_fixed_domain_resumes_a_paused_mailbox_on_recheck(dns_server, mailbox, operator):
    dmarc = dns_server.records.pop(f"_dmarc.{DOMAIN}")
    recheck_sender_readiness()
    assert resume_mailbox(mailbox=mailbox, actor=operator)  # still failing: stays paused
    assert not SendingMailbox.objects.get(pk=mailbox.pk).is_active
    dns_server.records[f"_dmarc.{DOMAIN}"] = dmarc
    assert resume_mailbox(mailbox=mailbox, actor=operator) == []
    assert SendingMailbox.objects.get(pk=mailbox.pk).is_active
    assert AuditEvent.objects.filter(verb="mailbox.resumed").count() == 1


def test_the_unsubscribe_probe_refuses_http_links(settings):
    from outreach.services.readiness import check_unsubscribe_post

    settings.AICMO_CHECK_UNSUBSCRIBE_POST = True
    settings.PUBLIC_BASE_URL = "http://campaigns.example.com"
    assert check_unsubscribe_post() == [
        "unsubscribe: http://campaigns.example.com is not https (List-Unsubscribe links must be)"
    ]
    settings.AICMO_CHECK_UNSUBSCRIBE_POST = False
    assert check_unsubscribe_post() == []


@pytest.mark.django_db(transaction=True)
def test_activation_looks_the_domain_up_before_its_transaction_and_reads_the_answers_inside(
    dns_server, live_campaign, operator, settings, monkeypatch
):
    """No transaction waits on a DNS server: the activation's pre-check asks, the blocker under the
    campaign's lock reads the cached answers."""
    from django.db import connection

    from outreach.services import readiness

    settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS = 300
    looked_up_in_transaction = []
    real_check = readiness._check_domain_now

    def check_and_note(domain, selector):  # a spy: the real look-up, and where it ran
        looked_up_in_transaction.append(connection.in_atomic_block)
        return real_check(domain, selector)

    monkeypatch.setattr(readiness, "_check_domain_now", check_and_note)
    assert activate_campaign(campaign=live_campaign, actor=operator).state == CampaignState.ACTIVE
    assert looked_up_in_transaction == [False]  # once, before the lock; none inside
    assert {name for name, _ in dns_server.queries} >= {DOMAIN, f"_dmarc.{DOMAIN}"}
