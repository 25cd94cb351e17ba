from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns import tasks
from campaigns.errors import DomainError, SystemPausedError
from campaigns.models import AuditEvent, CampaignState, SystemSwitch
from campaigns.selectors import spending_blocked_reason, system_paused, system_switch
from campaigns.services.system_pause import ensure_system_not_paused, set_system_pause

pytestmark = pytest.mark.django_db
S = CampaignState
TOGGLE_URL = "admin:campaigns_systemswitch_changelist"


def test_pause_on_and_off_is_audited(operator):
    assert not system_paused()
    set_system_pause(paused=True, actor=operator, rationale="ESP incident")
    assert system_paused() and system_paused(fresh=True)
    with pytest.raises(SystemPausedError, match="ESP incident"):
        ensure_system_not_paused()
    set_system_pause(paused=True, actor=operator, rationale="again")  # no change, no audit
    set_system_pause(paused=False, actor=operator, rationale="ESP fixed")
    assert not system_paused()
    ensure_system_not_paused()
    verbs = list(AuditEvent.objects.values_list("verb", "rationale", "actor"))
    assert verbs == [
        ("system.paused", "ESP incident", operator.pk),
        ("system.resumed", "ESP fixed", operator.pk),
    ]
    switch = SystemSwitch.objects.get()
    assert switch.changed_by == operator and switch.reason == "ESP fixed"


def test_pause_needs_a_rationale(operator):
    with pytest.raises(DomainError, match="rationale"):
        set_system_pause(paused=True, actor=operator, rationale="")
    assert not system_paused()


def test_the_switch_is_read_through_the_cache(django_assert_num_queries, operator):
    set_system_pause(paused=True, actor=operator, rationale="x")
    system_switch()
    with django_assert_num_queries(0):
        assert system_switch().paused and system_paused()
    with django_assert_num_queries(1):
        assert system_paused(fresh=True)


def test_pause_shows_as_the_blocked_reason(campaign_in_state, operator):
    campaign = campaign_in_state(S.ACTIVE)
    assert spending_blocked_reason(campaign) == ""
    set_system_pause(paused=True, actor=operator, rationale="audit week")
    assert spending_blocked_reason(campaign) == "System pause is on: audit week."


def test_daily_tick_does_nothing_while_paused(campaign_in_state, operator, frozen_now):
    import datetime as dt

    campaign = campaign_in_state(S.ACTIVE, end_date=dt.date(2026, 3, 1), start_date=dt.date(2026, 2, 1))
    set_system_pause(paused=True, actor=operator, rationale="freeze")
    assert tasks.campaign_daily_tick() == {"completed": [], "skipped": "system paused"}
    campaign.refresh_from_db()
    assert campaign.state == S.ACTIVE
    assert tasks.system_heartbeat()["system_paused"] is True
    set_system_pause(paused=False, actor=operator, rationale="thaw")
    assert tasks.campaign_daily_tick() == {"completed": [campaign.pk]}


def test_admin_toggle_and_banner(client, admin_role_user):
    client.force_login(admin_role_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert "system-pause-banner" not in index
    page = client.get(reverse(TOGGLE_URL))
    assert page.status_code == 200 and "Pause all sending" in page.content.decode()

    refused = client.post(reverse(TOGGLE_URL), {"rationale": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    assert not system_paused(fresh=True)

    done = client.post(reverse(TOGGLE_URL), {"rationale": "Blocklist alert"}, follow=True)
    assert system_paused(fresh=True)
    assert "System pause is ON" in done.content.decode()
    for url in (reverse("admin:index"), reverse("admin:campaigns_campaign_changelist")):
        body = client.get(url).content.decode()
        assert 'id="system-pause-banner"' in body and "Blocklist alert" in body

    client.post(reverse(TOGGLE_URL), {"rationale": "Delisted"})
    assert not system_paused(fresh=True)
    assert "system-pause-banner" not in client.get(reverse("admin:index")).content.decode()
    assert AuditEvent.objects.filter(verb__startswith="system.", actor=admin_role_user).count() == 2


def test_operators_see_the_switch_but_cannot_flip_it(client, operator_role_user):
    client.force_login(operator_role_user)
    page = client.get(reverse(TOGGLE_URL))
    assert page.status_code == 200 and "may view the switch but not change it" in page.content.decode()
    assert client.post(reverse(TOGGLE_URL), {"rationale": "try"}).status_code == 403
    assert not system_paused(fresh=True)


def test_the_banner_costs_at_most_one_cached_query(client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_system_pause(paused=True, actor=operator, rationale="x")
    client.force_login(operator)

    def switch_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(reverse("admin:index")).content.decode()
        assert 'id="system-pause-banner"' in body
        return sum("campaigns_systemswitch" in q["sql"] for q in ctx.captured_queries)

    assert switch_queries() <= 1
    assert switch_queries() == 0  # served from the cache


def test_system_pause_command():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("system_pause", stdout=out)
    assert "System pause is OFF." in out.getvalue()
    with pytest.raises(CommandError, match="rationale"):
        call_command("system_pause", "on")
    call_command("system_pause", "on", "--reason", "incident 42", stdout=out)
    assert "System pause is ON: nothing is sent and no cycle runs (incident 42)." in out.getvalue()
    assert system_paused(fresh=True)
    assert AuditEvent.objects.get(verb="system.paused").actor_label == "system"
    call_command("system_pause", "off", "--reason", "resolved", stdout=out)
    assert not system_paused(fresh=True)
