"""Admin of the sending half: every page renders, sequences are created only through the service,
the Run cycle page and action run dry-run cycles (sending nothing), and engine rows are read-only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from campaigns.models import AuditEvent
from creative import services as creative_services
from creative.models import CreativeState, CreativeVariant
from outreach.models import (
    InboundReply,
    Message,
    MessageEvent,
    MessageEventKind,
    SendingMailbox,
    Sequence,
    StepVariant,
)
from outreach.services.cycle import run_cycle

pytestmark = pytest.mark.django_db

NEW = "admin:outreach_sequence_new"
RUN = "admin:outreach_sequence_run_cycle"


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def _stat(html: str, key: str) -> str:
    found = re.search(rf'<tr data-stat="{key}"><th>[^<]*</th><td>([^<]*)</td>', html)
    assert found, f"stat {key} not shown"
    return found.group(1)


def _step_data(steps: list[dict], rows: int = 4) -> dict:
    data = {
        "steps-TOTAL_FORMS": str(rows),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": str(rows),
    }
    for index in range(rows):
        spec = steps[index] if index < len(steps) else {}
        data[f"steps-{index}-delay_days"] = spec.get("delay", "")
        for label in "ABC":
            creative, weight = spec.get(label, ("", ""))
            data[f"steps-{index}-creative_{label}"] = creative
            data[f"steps-{index}-weight_{label}"] = weight
    return data


def test_every_sending_page_renders(admin_client, live_campaign):
    campaign, sequence = live_campaign(leads=3, mode="dry_run")
    mailbox = SendingMailbox.objects.create(email="sales@agency.example", display_name="Sales", daily_cap=40)
    run_cycle(campaign_id=campaign.pk, dry_run=True)
    message = Message.objects.filter(campaign=campaign).first()
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    event = MessageEvent.objects.create(
        campaign=campaign,
        message=message,
        kind=MessageEventKind.DELIVERED,
        event_key="evt-1",
        provider="test",
        occurred_at=now,
        created_at=now,
    )
    reply = InboundReply.objects.create(
        campaign=campaign,
        message=message,
        from_email=message.to_email,
        subject="Re: hello",
        text="Sounds good <b>call me</b>",
        received_at=now,
    )
    enrollment = message.enrollment
    pages = {
        "sendingmailbox": mailbox.pk,
        "sequence": sequence.pk,
        "enrollment": enrollment.pk,
        "message": message.pk,
        "messageevent": event.pk,
        "inboundreply": reply.pk,
    }
    for model, pk in pages.items():
        changelist = admin_client.get(reverse(f"admin:outreach_{model}_changelist"))
        assert changelist.status_code == 200, model
        change = admin_client.get(reverse(f"admin:outreach_{model}_change", args=[pk]))
        assert change.status_code == 200, model

    filtered = admin_client.get(
        reverse("admin:outreach_message_changelist"),
        {
            "state": "sent",
            "dry_run__exact": "1",
            "campaign__id__exact": campaign.pk,
            "variant_label": "A",
            "q": message.to_email,
        },
    )
    assert filtered.status_code == 200
    assert message.to_email in filtered.content.decode()
    for params in ({"state": "active"}, {"stop_reason": "replied"}, {"campaign__id__exact": campaign.pk}):
        assert admin_client.get(reverse("admin:outreach_enrollment_changelist"), params).status_code == 200

    message_page = admin_client.get(reverse("admin:outreach_message_change", args=[message.pk])).content
    html = message_page.decode()
    assert escape(message.subject) in html
    assert "Body (text)" in html and "Attempts" in html and "Last error" in html
    assert "Provider message id" in html and escape(message.rfc_message_id) in html
    assert "Delivered" in html  # the event inline

    reply_page = admin_client.get(reverse("admin:outreach_inboundreply_change", args=[reply.pk])).content
    assert b"Sounds good &lt;b&gt;call me&lt;/b&gt;" in reply_page  # shown as text, escaped


def test_sequence_page_shows_steps_and_their_ab_variants(admin_client, live_campaign):
    _, sequence = live_campaign(leads=2, mode="dry_run", follow_up=True)
    page = admin_client.get(reverse("admin:outreach_sequence_change", args=[sequence.pk])).content.decode()
    assert "Steps (with their A/B creative variants)" in page
    for variant in StepVariant.objects.filter(step__sequence=sequence):
        link = reverse("admin:creative_creativevariant_change", args=[variant.creative_id])
        assert f'href="{link}"' in page
    assert page.count("<td><b>A</b></td>") == 2 and page.count("<td><b>B</b></td>") == 1
    assert "1 (50%)" in page and "1 (100%)" in page


def test_new_sequence_page_creates_through_the_service(admin_client, live_campaign, operator):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    first, second = CreativeVariant.objects.filter(campaign=campaign).order_by("pk")
    mailbox = SendingMailbox.objects.create(email="team@agency.example", client=campaign.client)
    url = reverse(NEW)

    picker = admin_client.get(url)
    assert picker.status_code == 200 and b"Choose campaign" in picker.content
    form_page = admin_client.get(url, {"campaign": campaign.pk}).content.decode()
    assert f"New sequence for {campaign.name}" in form_page
    assert f'<option value="{first.pk}">#{first.pk} v1' in form_page

    response = admin_client.post(
        f"{url}?campaign={campaign.pk}",
        {
            "campaign": campaign.pk,
            "name": "Founders",
            "mailbox": mailbox.pk,
            **_step_data(
                [{"delay": 0, "A": (first.pk, 3), "B": (second.pk, 1)}, {"delay": 4, "A": (second.pk, 1)}]
            ),
        },
    )

    created = Sequence.objects.get(campaign=campaign, name="Founders")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:outreach_sequence_change", args=[created.pk])
    assert created.mailbox == mailbox
    steps = list(created.steps.order_by("position"))
    assert [(s.position, s.delay_days) for s in steps] == [(1, 0), (2, 4)]
    assert list(steps[0].variants.values_list("label", "creative_id", "weight")) == [
        ("A", first.pk, 3),
        ("B", second.pk, 1),
    ]
    assert list(steps[1].variants.values_list("label", "creative_id", "weight")) == [("A", second.pk, 1)]
    # The service's audit record proves the page went through create_sequence.
    audit = AuditEvent.objects.get(verb="sequence.created", target_id=str(created.pk))
    assert audit.actor == operator

    assert admin_client.get(reverse("admin:outreach_sequence_add")).status_code == 302


def test_new_sequence_page_takes_a_pool_plain_text_and_refuses_tracking_without_a_domain(
    client, operator_role_user, live_campaign
):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    (first, _second) = CreativeVariant.objects.filter(campaign=campaign).order_by("pk")
    default = SendingMailbox.objects.create(email="zoe@agency.example", client=campaign.client)
    other = SendingMailbox.objects.create(email="max@agency.example", client=campaign.client)
    client.force_login(operator_role_user)
    url = f"{reverse(NEW)}?campaign={campaign.pk}"
    page = client.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="plain_text_only"[^>]* checked>', page)  # on by default
    assert 'name="mailboxes"' in page
    form = {
        "campaign": campaign.pk,
        "name": "Pool",
        "mailbox": default.pk,
        "mailboxes": [other.pk],
        "plain_text_only": "on",
        **_step_data([{"A": (first.pk, 1)}]),
    }

    refused = client.post(url, {**form, "track_opens": "on"})
    assert refused.status_code == 200
    assert "tracking domain of the client&#x27;s own" in refused.content.decode()
    assert not Sequence.objects.filter(name="Pool").exists()

    assert client.post(url, form).status_code == 302
    created = Sequence.objects.get(name="Pool")
    assert created.mailbox == default and list(created.mailboxes.all()) == [other]
    assert created.plain_text_only and not created.track_opens and not created.track_clicks


def test_new_sequence_page_refuses_unapproved_creative(admin_client, live_campaign, operator):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    approved = CreativeVariant.objects.filter(campaign=campaign).first()
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=1)
    in_review = CreativeVariant.objects.exclude(state=CreativeState.APPROVED).get(campaign=campaign)
    before = Sequence.objects.count()

    response = admin_client.post(
        f"{reverse(NEW)}?campaign={campaign.pk}",
        {
            "campaign": campaign.pk,
            "name": "Sneaky",
            "mailbox": "",
            **_step_data([{"A": (approved.pk, 1)}, {"A": (in_review.pk, 1)}]),
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Not created: Creative {in_review.pk} is in review; only approved creative" in html
    assert Sequence.objects.count() == before  # the service's transaction rolled the half-made sequence back

    gap = admin_client.post(
        f"{reverse(NEW)}?campaign={campaign.pk}",
        {"campaign": campaign.pk, "name": "Gap", **_step_data([{}, {"A": (approved.pk, 1)}])},
    )
    assert "Step 1 is empty but step 2 is not" in gap.content.decode()
    assert Sequence.objects.count() == before


def test_run_cycle_page_runs_a_dry_run_and_shows_the_stats(admin_client, live_campaign):
    campaign, _ = live_campaign(leads=4, mode="dry_run")
    url = reverse(RUN)

    page = admin_client.get(url, {"campaign": campaign.pk}).content.decode()
    assert f'<option value="{campaign.pk}" selected>' in page
    assert "no email is sent" in page

    response = admin_client.post(url, {"campaign": campaign.pk})

    html = response.content.decode()
    assert response.status_code == 200 and f"Cycle stats — {campaign.name}" in html
    assert _stat(html, "dry_run") == "yes"
    assert _stat(html, "enrolled") == "4" and _stat(html, "scheduled") == "4"
    assert _stat(html, "recorded_dry_run") == "4" and _stat(html, "sent") == "0"
    assert '<tr data-metric="leads_total"><th>Leads in total</th><td>4</td>' in html
    assert mail.outbox == []
    assert Message.objects.filter(campaign=campaign).count() == 4
    assert not Message.objects.filter(campaign=campaign, dry_run=False).exists()


def test_run_cycle_of_a_live_campaign_needs_confirmation_and_still_sends_nothing(admin_client, live_campaign):
    campaign, _ = live_campaign(leads=2)  # live mode
    url = reverse(RUN)

    refused = admin_client.post(url, {"campaign": campaign.pk}).content.decode()
    assert "is live: tick the box" in refused
    assert not Message.objects.filter(campaign=campaign).exists()

    response = admin_client.post(url, {"campaign": campaign.pk, "confirm_live": "on"})

    html = response.content.decode()
    assert _stat(html, "recorded_dry_run") == "2" and _stat(html, "sent") == "0"
    assert mail.outbox == []
    assert not Message.objects.filter(campaign=campaign, dry_run=False).exists()


def test_object_tool_links_preselect_the_filtered_campaign(admin_client, live_campaign):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    link = f'href="{reverse(RUN)}?campaign={campaign.pk}"'
    for model in ("message", "sequence"):
        page = admin_client.get(
            reverse(f"admin:outreach_{model}_changelist"), {"campaign__id__exact": campaign.pk}
        )
        assert link in page.content.decode(), model
        unfiltered = admin_client.get(reverse(f"admin:outreach_{model}_changelist")).content.decode()
        assert f'href="{reverse(RUN)}"' in unfiltered


def test_sequence_action_runs_dry_cycles_for_their_campaigns(admin_client, live_campaign):
    dry_campaign, dry_sequence = live_campaign(leads=3, mode="dry_run")
    live, live_sequence = live_campaign(leads=2)

    response = admin_client.post(
        reverse("admin:outreach_sequence_changelist"),
        {"action": "run_dry_cycle_action", "_selected_action": [dry_sequence.pk, live_sequence.pk]},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Cycle stats — {dry_campaign.name}" in html and _stat(html, "recorded_dry_run") == "3"
    assert f"Not run: {live.name} is live" in html
    assert mail.outbox == []
    assert not Message.objects.filter(campaign=live).exists()
    assert not Message.objects.filter(dry_run=False).exists()


def test_engine_rows_are_read_only(admin_client, live_campaign):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    run_cycle(campaign_id=campaign.pk, dry_run=True)
    message = Message.objects.get(campaign=campaign)

    for model in ("message", "enrollment", "messageevent", "inboundreply"):
        assert admin_client.get(reverse(f"admin:outreach_{model}_add")).status_code == 403, model
    assert admin_client.get(reverse("admin:outreach_message_delete", args=[message.pk])).status_code == 403
    change_url = reverse("admin:outreach_message_change", args=[message.pk])
    page = admin_client.get(change_url).content.decode()
    assert 'name="_save"' not in page and "Delete" not in page
    assert admin_client.post(change_url, {"subject": "tampered"}).status_code == 403
    message.refresh_from_db()
    assert message.subject != "tampered"
    changelist = admin_client.get(reverse("admin:outreach_message_changelist")).content.decode()
    assert reverse("admin:outreach_message_add") not in changelist
    assert 'value="delete_selected"' not in changelist


def test_pages_need_staff(client, client_user, live_campaign):
    campaign, _ = live_campaign(leads=1, mode="dry_run")
    client.force_login(client_user)
    assert client.get(reverse(RUN)).status_code == 302  # to the admin login
    assert client.post(reverse(RUN), {"campaign": campaign.pk}).status_code == 302
    assert not Message.objects.exists()


def test_message_and_enrollment_lists_use_a_constant_number_of_queries(admin_client, live_campaign):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(leads: int) -> dict[str, int]:
        campaign, _ = live_campaign(leads=leads, mode="dry_run")
        run_cycle(campaign_id=campaign.pk, dry_run=True)
        counts = {}
        for model in ("message", "enrollment"):
            url = reverse(f"admin:outreach_{model}_changelist")
            admin_client.get(url, {"campaign__id__exact": campaign.pk})  # warms the cached reads
            with CaptureQueriesContext(connection) as captured:
                page = admin_client.get(url, {"campaign__id__exact": campaign.pk})
            assert page.status_code == 200
            counts[model] = len(captured)
        return counts

    assert queries_for(2) == queries_for(8)
