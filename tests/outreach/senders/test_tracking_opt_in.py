"""Open and click tracking (issue 18 point 10): off by default; an operator turns it on per sequence
only with the client's own tracking domain and an HTML part, and the unsubscribe link is never
tracked. Sent through anymail's real Postmark backend to a loopback server that answers like
Postmark's API, so what reaches the ESP is what is asserted."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from bench.fake_esp import FakePostmark
from campaigns.errors import DomainError
from campaigns.models import AuditEvent
from campaigns.services.sender_identity import set_sender_identity
from outreach.models import Message, SendingMailbox, Sequence
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.sending.sequences import update_sequence
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = pytest.mark.django_db
TRACKING_DOMAIN = "track.northwind.example"


@pytest.fixture
def postmark(settings, tmp_path):
    """The fake Postmark API, keeping every message payload for the test to read."""
    server = FakePostmark(log_path=str(tmp_path / "accepted.log"), latency=0, keep_payloads=True).start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "POSTMARK_API_URL": server.url}
    yield server
    server.stop()


def send(campaign, sequence):
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    return send_due_messages(campaign_id=campaign.pk, dry_run=False)


def with_tracking_domain(campaign):
    set_sender_identity(target=campaign.client, values={"tracking_domain": TRACKING_DOMAIN})


def test_untracked_by_default_the_esp_is_told_so(live_campaign, postmark):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    Sequence.objects.filter(pk=sequence.pk).update(plain_text_only=False)
    assert send(campaign, sequence).sent == 1
    (payload,) = postmark.payloads
    assert payload["TrackOpens"] is False and payload["TrackLinks"] == "None"


def test_tracking_needs_the_clients_own_tracking_domain(live_campaign, operator):  # noqa: F811
    campaign, sequence = live_campaign(leads=0)
    with pytest.raises(DomainError, match="tracking domain of the client's own") as refused:
        update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_opens=True)
    assert refused.value.details["field"] == "track_opens"
    sequence.refresh_from_db()
    assert sequence.track_opens is False and sequence.plain_text_only is True  # nothing half-saved
    assert not AuditEvent.objects.filter(verb="sequence.updated").exists()

    with_tracking_domain(campaign)
    updated = update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_opens=True)
    assert updated.track_opens is True
    assert AuditEvent.objects.get(verb="sequence.updated").metadata == {
        "changed": ["plain_text_only", "track_opens"]
    }


def test_tracking_needs_an_html_part_and_esp_mailboxes(live_campaign, operator, postmark):  # noqa: F811
    campaign, sequence = live_campaign(leads=0)
    with_tracking_domain(campaign)
    with pytest.raises(DomainError, match="untick “plain text only”") as refused:
        update_sequence(sequence=sequence, actor=operator, track_opens=True)
    assert refused.value.details["field"] == "plain_text_only"

    smtp = SendingMailbox.objects.create(
        client=campaign.client, email="zoe@mail.northwind.example", transport="smtp", smtp_host="127.0.0.1"
    )
    with pytest.raises(DomainError, match="sends over SMTP, which has no tracking service"):
        update_sequence(
            sequence=sequence, actor=operator, plain_text_only=False, track_clicks=True, mailbox=smtp
        )


def test_click_tracking_needs_an_esp_that_spares_the_unsubscribe_link(live_campaign, operator, settings):  # noqa: F811
    campaign, sequence = live_campaign(leads=0)
    with_tracking_domain(campaign)
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"  # tracks every link it sees
    with pytest.raises(DomainError, match="leaves the unsubscribe link untracked") as refused:
        update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_clicks=True)
    assert refused.value.details["field"] == "track_clicks"
    # opens alone rewrite no link: any ESP may count them
    opens = update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_opens=True)
    assert opens.track_opens


def test_tracked_sends_spare_the_unsubscribe_link(live_campaign, operator, postmark):  # noqa: F811
    campaign, sequence = live_campaign(leads=2)
    with_tracking_domain(campaign)
    update_sequence(
        sequence=sequence, actor=operator, plain_text_only=False, track_opens=True, track_clicks=True
    )
    assert send(campaign, sequence).sent == 2
    assert len(postmark.payloads) == 2
    for payload in postmark.payloads:
        message = Message.objects.get(pk=payload["Metadata"]["aicmo_message_id"])
        assert message.track_opens and message.track_clicks
        assert payload["TrackOpens"] is True
        # HTML links tracked, text links (the unsubscribe URL is one) left as written
        assert payload["TrackLinks"] == "HtmlOnly"
        assert message.unsubscribe_url in payload["TextBody"]
        anchors = [a for a in payload["HtmlBody"].split("<a ")[1:] if message.unsubscribe_url in a]
        assert anchors, payload["HtmlBody"]
        assert all(a.startswith('data-pm-no-track clicktracking="off" ') for a in anchors)


def test_an_identity_without_its_tracking_domain_sends_untracked(live_campaign, operator, postmark):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    with_tracking_domain(campaign)
    update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_opens=True)
    set_sender_identity(target=campaign.client, values={"tracking_domain": ""})
    assert send(campaign, sequence).sent == 1
    assert postmark.payloads[0]["TrackOpens"] is False
    assert Message.objects.get().track_opens is False


def test_an_operator_turns_tracking_on_in_the_admin(client, operator_role_user, live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=0)
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_sequence_change", args=[sequence.pk])
    page = client.get(url)
    steps = page.context["inline_admin_formsets"][0].formset.management_form
    form = {
        "name": "Main",
        "mailbox": "",
        "is_active": "on",
        "track_opens": "on",
        **{steps.add_prefix(k): v for k, v in steps.initial.items()},
    }

    refused = client.post(url, {**form, "plain_text_only": "on"})  # and no tracking domain yet
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "tracking domain of the client's own" in errors["track_opens"][0]
    assert "plain text only" in errors["plain_text_only"][0]
    assert Sequence.objects.get(pk=sequence.pk).track_opens is False

    with_tracking_domain(campaign)
    assert client.post(url, form).status_code == 302  # plain text only unticked
    saved = Sequence.objects.get(pk=sequence.pk)
    assert saved.track_opens is True and saved.plain_text_only is False and saved.track_clicks is False


def test_the_client_api_shows_the_tracking_domain(live_campaign, operator):  # noqa: F811
    campaign, _sequence = live_campaign(leads=0)
    with_tracking_domain(campaign)
    api = APIClient()
    api.force_authenticate(operator)
    body = api.get(f"/api/v1/clients/{campaign.client_id}/sender-identity/").json()
    assert body["tracking_domain"] == TRACKING_DOMAIN
    assert body["effective"]["tracking_domain"] == TRACKING_DOMAIN
    refused = api.patch(
        f"/api/v1/clients/{campaign.client_id}/sender-identity/",
        json.dumps({"tracking_domain": "https://track.example/"}),
        content_type="application/json",
    )
    assert refused.status_code == 400 and "bare domain" in refused.content.decode()
