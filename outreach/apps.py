from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Day-to-day work on outreach for the operator role (and so approver and admin).
        register_role_permissions(
            "operator",
            [
                "outreach.view_sendingmailbox",
                # Onboarding a client's mailboxes (transport, inbox, secrets: docs/senders.md).
                "outreach.add_sendingmailbox",
                "outreach.change_sendingmailbox",
                "outreach.view_sequence",
                "outreach.add_sequence",
                "outreach.change_sequence",
                "outreach.view_sequencestep",
                "outreach.view_stepvariant",
                "outreach.view_enrollment",
                "outreach.view_message",
                "outreach.view_messageevent",
                "outreach.view_inboundreply",
                # The reply inbox: re-categorise, mark handled, answer (docs/reply-inbox.md).
                "outreach.change_inboundreply",
                "outreach.view_replyanswer",
                "outreach.view_replyrules",
                "outreach.add_replyrules",
                "outreach.change_replyrules",
                "outreach.view_operatortask",
                "outreach.add_operatortask",
                "outreach.change_operatortask",
                "outreach.view_metricentry",
                "outreach.add_metricentry",
            ],
        )

        from campaigns.lifecycle import (
            register_activation_check,
            register_activation_precheck,
            register_after_commit,
            register_transition_handler,
        )

        from . import inbox_tasks, readiness_tasks  # noqa: F401  (beat tasks: inbox polls, readiness)
        from .services.readiness import look_up_sender_readiness, sender_readiness_blockers

        # Live email waits for SPF, DKIM, DMARC, MX and the one-click unsubscribe (docs/senders.md).
        register_activation_check(sender_readiness_blockers)
        register_activation_precheck(look_up_sender_readiness)  # the lookups, before the lock

        from .services.sending import cancel_campaign_outreach, wait_for_calls_in_flight

        # A kill cancels every scheduled message and stops every enrollment, in the kill's transaction.
        register_transition_handler("kill", cancel_campaign_outreach)
        # A stop returns once the calls already with the provider are recorded (none start after it).
        register_after_commit("kill", wait_for_calls_in_flight)
        register_after_commit("pause", wait_for_calls_in_flight)

        from campaigns.retention import register_retention_pruner

        from .services.retention import prune_old_message_events

        register_retention_pruner("outreach.message_events", prune_old_message_events)

        from leads.erasure import register_erasure_handler

        from .services.erasure import erase_outreach_personal_data

        register_erasure_handler("outreach.messages", erase_outreach_personal_data)

        # Creative previews and test sends read a lead's merge fields, the campaign's leads and
        # its sender from here (creative may not import outreach or leads).
        from .creative_sources import register_creative_sources

        register_creative_sources()

        from anymail.signals import inbound, tracking

        # checks: webhook authentication (deploy); secrets_checks: refuses to start with DEBUG off and
        # no AICMO_SECRET_KEYS.
        from . import checks, secrets_checks  # noqa: F401
        from .receivers import on_inbound, on_tracking

        tracking.connect(on_tracking, dispatch_uid="outreach.tracking")
        inbound.connect(on_inbound, dispatch_uid="outreach.inbound")
