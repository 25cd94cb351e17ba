"""An operator runs a campaign end to end in the real admin, in a real browser (issue #8, item 2).

Set-up through the services (a client, a campaign in planning with its brief and a generated batch
of three strategy variants, an operator-role user); everything after that is done by clicking
through the admin from the campaign's page, as an operator would: log in, open the campaign,
compare the strategies, select and approve one with a rationale, generate and approve a creative,
import a messy CSV and read its report, read the dashboard, go live, pause, kill. Each step saves a
screenshot under var/screenshots/<test name>/ and is checked both on the page and in the database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from campaigns.models import AuditEvent, Campaign, CampaignState
from campaigns.services.transitions import transition_campaign
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead, LeadImport
from strategy import services as strategy_services
from strategy.models import CampaignPlan, StrategyDecision, VariantState
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's password
STRATEGY_RATIONALE = "Aggressive fits the client's quarter target; the budget covers the paid share."
CREATIVE_RATIONALE = "Clearest subject line and a single call to action."
PAUSE_RATIONALE = "Client asked to hold sends during their trade fair."
KILL_RATIONALE = "Client ended the contract."

# A messy export: a BOM, padded cells, an address twice (other case), one that is not an address.
MESSY_CSV = (
    "\ufeffEmail,First Name,Last Name,Company,Country\n"
    "ann.archer@northwind.example, Ann ,Archer,Northwind Logistics,US\n"
    "bob.baker@contoso.example,Bob,Baker,Contoso Freight,US\n"
    "ANN.ARCHER@northwind.example,Ann,Archer,Northwind Logistics,US\n"
    "not-an-address,Carl,Cole,Fabrikam,US\n"
)


@pytest.fixture
def campaign_with_strategies():
    """A lead-gen campaign in planning with its brief, then a template-generated batch of 3."""
    campaign = CampaignFactory(
        client=ClientFactory(name="Northwind Freight"),
        name="Q3 logistics outreach",
        type="lead_gen",
        channels=["email", "linkedin"],
        target_clients=5,
        start_date=dt.date.today(),
        end_date=dt.date.today() + dt.timedelta(days=60),
        timezone="Europe/Berlin",
    )
    strategy_services.save_brief(
        campaign=campaign,
        objective="Book 20 discovery calls with mid-size logistics companies this quarter",
        audience="Operations directors at logistics firms with 50-500 staff",
        offer="Route-planning software that cuts fuel costs",
        channels=["email", "linkedin"],
        tone="professional",
        constraints="No pricing claims",
        budget="12000",
        currency="EUR",
    )
    campaign = transition_campaign(campaign=campaign, transition="start_planning", rationale="brief written")
    batch = strategy_services.generate_strategies(campaign=campaign, variants=3, generator="template")
    return Campaign.objects.get(pk=campaign.pk), batch


def _flash(page) -> str:
    """The admin's success/error messages on the current page."""
    return page.locator("ul.messagelist").inner_text() if page.locator("ul.messagelist").count() else ""


def _open_campaign_page(page, campaign: Campaign) -> None:
    """From anywhere: the campaign list (admin home link), then the campaign by name."""
    page.click("#site-name a")
    page.click("a[href$='/admin/campaigns/campaign/']")
    page.click(f"#result_list a:text-is('{campaign.name}')")
    page.wait_for_selector("#campaign-work")


def test_operator_runs_a_campaign_from_strategy_to_kill(
    live_server, page, screenshot, operator_role_user, campaign_with_strategies, tmp_path
):
    campaign, batch = campaign_with_strategies
    operator = operator_role_user
    assert not operator.is_superuser  # the operator role's permissions, not a superuser's
    variants = list(batch.variants.order_by("position"))
    assert len(variants) == 3 and campaign.state == CampaignState.AWAITING_APPROVAL
    chosen = variants[1]

    # 1. Log in through the login form.
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not logged in yet: the login form, not the index
    page.fill("#id_username", operator.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert operator.username in page.locator("#user-tools").inner_text().lower()
    screenshot("logged-in")

    # 2. Open the campaign from the campaign list; its page links to every step.
    _open_campaign_page(page, campaign)
    work = page.locator("#campaign-work").inner_text()
    for label in ("Compare strategies (batch 1)", "Generate creative", "Import leads (CSV)", "Dashboard"):
        assert label in work, f"{label!r} missing from the campaign page: {work}"
    assert "no strategy approved yet" in work
    lifecycle = page.locator("#lifecycle").inner_text()
    assert "Awaiting approval" in lifecycle
    assert page.locator("#lifecycle a[data-transition=approve]").count() == 0
    assert "none is approved yet" in page.locator("#lifecycle-waiting-approve").inner_text()
    screenshot("campaign-page")

    # 3. Compare the three strategy variants side by side.
    page.click("#campaign-link-strategy-compare")
    page.wait_for_selector("#compare")
    headers = page.locator("#compare thead th[data-variant]")
    assert headers.count() == 3
    for variant in variants:
        assert variant.title in page.locator(f"#compare th[data-variant='{variant.pk}']").text_content()
    table = page.locator("#compare").inner_text()
    for row in ("Positioning", "Channel mix", "KPI targets", "Budget split", "Risks"):
        assert row in table
    screenshot("strategy-comparison")

    # 4. The second variant is selected and approved in one submit (its form has the rationale).
    assert page.locator("input[data-step=select]").count() == 0
    # 5. Approve it with a rationale typed into its form ("Select and approve").
    approve_form = page.locator(
        "form", has=page.locator(f"input[data-step=approve][data-variant='{chosen.pk}']")
    )
    approve_form.locator("textarea[name=rationale]").fill(STRATEGY_RATIONALE)
    approve_form.locator("input[data-step=approve]").click()
    page.wait_for_selector("text=The plan and content calendar were built.")
    assert f"Variant “{chosen.title}” approved." in _flash(page)
    decide_row = page.locator("#compare tr.decide").inner_text()
    assert f"Approved by {operator.username}" in decide_row and STRATEGY_RATIONALE in decide_row
    assert chosen.title in page.locator("#approved-strategy").inner_text()
    assert page.locator("input[data-step=select]").count() == 0  # nothing else can be selected now
    screenshot("strategy-approved")
    chosen.refresh_from_db()
    assert chosen.state == VariantState.APPROVED and chosen.decided_by == operator
    assert chosen.decision_rationale == STRATEGY_RATIONALE
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="strategy.approved", actor=operator, rationale=STRATEGY_RATIONALE
    ).exists()
    assert StrategyDecision.objects.filter(
        variant=chosen, actor=operator, rationale=STRATEGY_RATIONALE
    ).exists()
    assert CampaignPlan.objects.filter(campaign=campaign, variant=chosen).exists()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.APPROVED

    # 6. Back to the campaign (breadcrumb), generate email creative from the approved strategy.
    page.click(f".breadcrumbs a:text-is('{campaign.name}')")
    page.wait_for_selector("#campaign-work")
    assert f"approved: {chosen.title}" in page.locator("#campaign-work").inner_text()
    assert page.locator("#lifecycle a[data-transition=activate]").count() == 1
    assert page.locator("#lifecycle-waiting-approve").count() == 0
    page.click("#campaign-link-creative-generate")
    assert page.locator("#id_campaign").input_value() == str(campaign.pk)  # preselected
    page.fill("#id_variants", "2")
    page.check("input[name=platforms][value=email]")
    screenshot("creative-generate-form")
    page.click("input[type=submit][value=Generate]")
    page.wait_for_selector(".compare")
    assert "Generated 2 variant(s) in 1 brief(s)" in _flash(page)
    creatives = list(CreativeVariant.objects.filter(campaign=campaign).order_by("pk"))
    assert len(creatives) == 2 and {c.state for c in creatives} == {CreativeState.IN_REVIEW}
    for creative in creatives:
        assert page.locator(f"#variant-{creative.pk}").is_visible()
    screenshot("creative-comparison")

    # 7. Approve the first creative with a rationale.
    picked = creatives[0]
    column = page.locator(f"#variant-{picked.pk}")
    column.locator("textarea[name=rationale]").fill(CREATIVE_RATIONALE)
    column.locator("button[name=decision][value=approve]").click()
    page.wait_for_selector(f"text=Creative #{picked.pk} is now approved.")
    assert page.locator(f"#variant-{picked.pk} .state").inner_text() == "Approved"
    assert page.locator(f"#variant-{creatives[1].pk} .state").inner_text() == "In review"
    screenshot("creative-approved")
    picked.refresh_from_db()
    assert picked.state == CreativeState.APPROVED and picked.decided_by == operator
    assert picked.decision_rationale == CREATIVE_RATIONALE
    assert AuditEvent.objects.filter(campaign=campaign, actor=operator, rationale=CREATIVE_RATIONALE).exists()

    # 8. Import a messy CSV from the campaign page and read the import report on screen.
    page.click(f".breadcrumbs a:text-is('{campaign.name}')")
    page.wait_for_selector("#campaign-work")
    assert "1 in review, 1 approved" in page.locator("#campaign-work").inner_text()
    page.click("#campaign-link-leads-import")
    assert page.locator("#id_campaign").input_value() == str(campaign.pk)
    csv_path = tmp_path / "trade-fair-contacts.csv"
    csv_path.write_text(MESSY_CSV, encoding="utf-8")
    page.set_input_files("#id_file", str(csv_path))
    screenshot("lead-import-form")
    page.click("#lead-import-form input[type=submit]")
    page.wait_for_selector("#lead-import-preview")  # the columns detected and the first rows
    assert "Not imported" in page.locator("#preview-row-5").inner_text()
    screenshot("lead-import-preview")
    page.click("#lead-import-confirm")
    page.wait_for_selector("text=2 leads inserted from 4 rows; 2 rows rejected")
    lead_import = LeadImport.objects.get(campaign=campaign)
    # Back on the campaign page with the summary; the full report is one link away.
    assert f"/campaigns/campaign/{campaign.pk}/change/" in page.url
    page.click("#lead-import-report-link")
    page.wait_for_selector(".field-rejected_rows")
    assert f"/leads/leadimport/{lead_import.pk}/change/" in page.url
    report = _readonly_fields(page)
    assert report["Rows read"] == "4" and report["Inserted"] == "2"
    assert report["Duplicates in file"] == "1" and report["Invalid"] == "1"
    rejected = page.locator(".field-rejected_rows").inner_text()
    assert "Download all 2 rejected rows as CSV" in rejected and "not-an-address" in rejected
    screenshot("lead-import-report")
    assert (lead_import.rows_read, lead_import.inserted) == (4, 2)
    assert (lead_import.duplicates_in_file, lead_import.invalid) == (1, 1)
    assert sorted(Lead.objects.filter(campaign=campaign).values_list("normalized_email", flat=True)) == [
        "ann.archer@northwind.example",
        "bob.baker@contoso.example",
    ]

    # 9. The campaign's dashboard shows the two leads against the goal of five clients.
    _open_campaign_page(page, campaign)
    assert "2 inserted, 2 rejected" in page.locator("#campaign-work").inner_text()
    page.click("#campaign-link-report-dashboard")
    page.wait_for_selector(".reporting-dashboard")
    dashboard = page.locator(".reporting-dashboard").inner_text()
    goal = re.sub(r"\s+", " ", page.locator("h2:text-is('Goal progress') + p").inner_text())
    assert "0 qualified of a target of 5" in goal and "of 2 leads" in goal
    assert "Approved" in dashboard  # the campaign's state
    funnel = page.locator("svg[aria-label='Lead funnel']")
    assert funnel.locator("title", has_text="Leads: 2").count() == 1
    assert funnel.locator("title", has_text="Contacted+: 0").count() == 1
    assert page.locator("svg[aria-label='Sends and replies per day']").count() == 1
    screenshot("dashboard")

    # 10. Go live, then pause with a rationale.
    page.click("a:text-is('Campaign page')")
    page.click("#lifecycle a[data-transition=activate]")
    page.fill("#id_rationale", "Strategy and creative approved; list imported.")
    page.click("input[name=confirm]")
    page.wait_for_selector("text=is now active")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE
    page.click("#lifecycle a[data-transition=pause]")
    page.fill("#id_rationale", PAUSE_RATIONALE)
    screenshot("pause-form")
    page.click("input[name=confirm]")
    page.wait_for_selector(f"text=Campaign “{campaign.name}” is now paused.")
    assert "Current state: Paused" in page.locator("#lifecycle").inner_text()
    screenshot("paused")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="campaign.paused", actor=operator, rationale=PAUSE_RATIONALE
    ).exists()

    # 11. Kill: the confirmation page warns that it is final and wants a reason.
    page.click("#lifecycle a[data-transition=kill]")
    assert "Killing is final" in page.locator(".errornote").inner_text()
    page.fill("#id_rationale", KILL_RATIONALE)
    screenshot("kill-confirmation")
    page.click("input[name=confirm][value=Kill]")
    page.wait_for_selector(f"text=Campaign “{campaign.name}” is now cancelled.")
    assert page.locator("#lifecycle").count() == 0  # a cancelled campaign has no lifecycle buttons
    screenshot("killed")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="campaign.killed", actor=operator, rationale=KILL_RATIONALE
    ).exists()

    # 12. The timeline tells the whole story, with each rationale.
    page.click("text=Timeline")
    page.wait_for_selector("#timeline")
    timeline = page.locator("#timeline").inner_text()
    for text in (STRATEGY_RATIONALE, CREATIVE_RATIONALE, PAUSE_RATIONALE, KILL_RATIONALE):
        assert text in timeline
    screenshot("timeline")


def _readonly_fields(page) -> dict[str, str]:
    """Label -> value of a view-only admin page's fields."""
    values = {}
    for row in page.locator("div.form-row").all():
        label = row.locator("label")
        value = row.locator("div.readonly")
        if label.count() == 1 and value.count() == 1:
            values[label.inner_text().rstrip(":").strip()] = value.inner_text().strip()
    return values
