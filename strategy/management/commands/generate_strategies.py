from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.errors import DomainError
from campaigns.models import Campaign
from strategy.adapters import available_generators
from strategy.models import DEFAULT_VARIANTS, MAX_VARIANTS, MIN_VARIANTS, CampaignPlan, StrategyVariant
from strategy.services import generate_and_approve_strategy, generate_strategies


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _kpi(value: float) -> str:
    return f"{value * 100:.1f}%" if value < 1 else f"{value:g}"


class Command(BaseCommand):
    help = (
        "Generate a new batch of strategy variants for a campaign and print a summary. With --approve N, "
        "also select and approve variant N and build the plan and calendar, all in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument(
            "--variants", type=int, default=DEFAULT_VARIANTS, help=f"{MIN_VARIANTS} to {MAX_VARIANTS}."
        )
        parser.add_argument("--generator", default=None, help=f"One of: {', '.join(available_generators())}.")
        parser.add_argument("--approve", type=int, metavar="N", help="Approve variant N (1-based) at once.")
        parser.add_argument("--rationale", default="", help="Why (kept in the campaign's timeline).")

    def handle(self, *args, campaign_id: int, variants: int, generator, approve, rationale: str, **options):
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"Campaign {campaign_id} does not exist.")
        try:
            if approve is not None:
                approved = generate_and_approve_strategy(
                    campaign=campaign,
                    variants=variants,
                    generator=generator,
                    choose=approve,
                    rationale=rationale or "approved from the command line",
                )
                batch = approved.batch
            else:
                batch = generate_strategies(campaign=campaign, variants=variants, generator=generator)
        except (DomainError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        campaign.refresh_from_db()
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Campaign {campaign.pk} “{campaign.name}” ({campaign.get_type_display()}): "
                f"batch {batch.number}, "
                f"{batch.requested_variants} variants by {batch.generator}, cost {batch.generation_cost} "
                f"{batch.cost_currency}. Campaign is {campaign.state}."
            )
        )
        for variant in StrategyVariant.objects.filter(batch=batch).order_by("position"):
            write("")
            write(f"[{variant.position}] {variant.title}  (id {variant.pk}, {variant.state})")
            write(f"    Positioning: {variant.positioning}")
            write("    Pillars:     " + " | ".join(variant.pillars))
            write(
                "    Channels:    "
                + ", ".join(
                    f"{ch} {_percent(share)} ({cad['per_week']}/wk {cad['content_type']})"
                    for ch, share in variant.channel_mix.items()
                    for cad in [variant.cadence.get(ch, {"per_week": 0, "content_type": "-"})]
                )
            )
            write(
                "    Phases:      " + " → ".join(f"{p['name']} {p['duration_days']}d" for p in variant.phases)
            )
            write("    KPIs:        " + ", ".join(f"{k} {_kpi(v)}" for k, v in variant.kpi_targets.items()))
            write(
                "    Budget:      "
                + ", ".join(f"{b['item']} {_percent(b['share'])}" for b in variant.budget_split)
            )
            write("    Risks:       " + " | ".join(f"[{r['severity']}] {r['risk']}" for r in variant.risks))
        plan = CampaignPlan.objects.filter(campaign=campaign).first()
        if approve is not None and plan is not None:
            write("")
            write(
                self.style.SUCCESS(
                    f"Approved variant {approve}; plan {plan.start_date} to {plan.end_date} with "
                    f"{plan.phases.count()} phases and {plan.calendar_items.count()} calendar items."
                )
            )
        elif approve is None:
            write("")
            write(
                "Select and approve one in the admin, or via the API: "
                "POST /api/v1/strategies/<id>/select/ then /approve/."
            )
