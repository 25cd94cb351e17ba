"""Demo data for `make run`: safe to run any number of times."""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from campaigns.api_tokens import api_token_for
from campaigns.demo_accounts import (
    DEMO_PASSWORDS,
    DEMO_REFUSED_MESSAGE,
    DEMO_STAFF,
    demo_accounts_allowed,
    ensure_demo_staff_user,
)
from campaigns.models import Campaign, Client, CompliancePolicy, User
from campaigns.services.clients import create_client, create_client_user
from campaigns.services.editing import create_campaign
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import start_campaign_planning

CLIENT_USER = ("acme-api", DEMO_PASSWORDS["acme-api"])
CLIENT_NAME = "Acme Analytics"


def demo_staff() -> dict[str, User]:
    """One staff user per role (operator, approver, agency-admin), none a superuser: the demo shows
    what each role may do (README, "Who can do what"). An older seed's superuser `operator` is
    demoted to its role by a re-run."""
    return {username: ensure_demo_staff_user(username) for username in DEMO_STAFF}


class Command(BaseCommand):
    help = (
        "Create a demo client, one staff user per role (operator, approver, agency-admin), a client "
        "API user and a couple of campaigns (idempotent). "
        "Only with DEBUG on: the demo passwords are published."
    )

    def handle(self, *args, **options):
        if not demo_accounts_allowed():
            raise CommandError(DEMO_REFUSED_MESSAGE)
        self.seed()

    @transaction.atomic
    def seed(self):
        staff = demo_staff()
        # Each step by the role that does it in an agency: the admin onboards the client's API user
        # and sets the compliance policy, the operator creates the client and runs campaigns.
        operator, admin = staff["operator"], staff["agency-admin"]
        client = Client.objects.filter(name=CLIENT_NAME).first() or create_client(
            name=CLIENT_NAME, actor=operator
        )
        api_user, _created = create_client_user(
            client=client,
            username=CLIENT_USER[0],
            email="api@acme.example",
            password=CLIENT_USER[1],
            actor=admin,
        )
        api_token_for(api_user)
        today = timezone.localdate()
        if not CompliancePolicy.objects.filter(client=client).exists():
            set_compliance_policy(
                client=client,
                actor=admin,
                rationale="Agency default for Acme.",
                consent_regions=["EU", "UK"],
                sender_postal_address="Acme Analytics, 1 Demo Street, Springfield, USA",
            )
        if not Campaign.objects.filter(client=client).exists():
            create_campaign(
                client=client,
                name="Q1 pipeline: data leaders",
                actor=operator,
                type="lead_gen",
                objective="Book 10 discovery calls with heads of data at mid-size SaaS companies.",
                target_niche="B2B SaaS, 50-500 employees",
                icp="Head of Data / VP Analytics",
                target_clients=10,
                channels=["email", "linkedin"],
                start_date=today,
                end_date=today + timedelta(days=90),
                budget_cap=Decimal("500.00"),
            )
            webinar = create_campaign(
                client=client,
                name="Webinar: modern BI stack",
                actor=operator,
                type="webinar",
                objective="150 registrations for the live session.",
                target_clients=5,
                channels=["email", "linkedin", "x"],
                start_date=today,
                end_date=today + timedelta(days=30),
            )
            start_campaign_planning(
                campaign=webinar, actor=operator, rationale="Brief agreed with the client."
            )
        # URLs (AICMO_PORT / AICMO_BIND), logins and working tokens are printed by demo_access, which
        # `make run` calls last, once `manage.py demo` has made the campaign with data (printing a
        # token here would show the one of Acme, whose campaigns are still empty).
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: client {CLIENT_NAME}, logins {', '.join(DEMO_STAFF)} "
                f"and {CLIENT_USER[0]}. "
                "URLs, passwords and API tokens: `manage.py demo_access`."
            )
        )
