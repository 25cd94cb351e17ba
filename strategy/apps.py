from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = "Strategy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Day-to-day work on strategy for the operator role (and so approver and admin).
        register_role_permissions(
            "operator",
            [
                "strategy.view_brief",
                "strategy.add_brief",
                "strategy.change_brief",
                "strategy.view_strategybatch",
                "strategy.add_strategybatch",
                "strategy.view_strategyvariant",
                "strategy.change_strategyvariant",
                "strategy.view_strategydecision",
                "strategy.view_campaignplan",
                "strategy.change_campaignplan",
                "strategy.view_planphase",
                "strategy.view_calendaritem",
                "strategy.change_calendaritem",
            ],
        )

        from campaigns.lifecycle import register_activation_check, register_approval_check

        from .selectors import strategy_activation_blockers, strategy_approval_blockers

        # Campaigns cannot import strategy; we tell its lifecycle what strategy requires instead.
        register_approval_check(strategy_approval_blockers)
        register_activation_check(strategy_activation_blockers)

        from campaigns.risk import register_quoted_source

        # Strategies and creative quote the brief's constraints back ("within these limits: No
        # guarantees of savings"); the risk rules must not read that as the claim it forbids.
        register_quoted_source(brief_constraints)


def brief_constraints(campaign) -> list[str]:
    from .models import Brief

    return list(Brief.objects.filter(campaign_id=campaign.pk).values_list("constraints", flat=True))
