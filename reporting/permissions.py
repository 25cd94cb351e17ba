"""Reporting's actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import register_action

register_action("outcome.record", label="record a won deal", staff_permission="reporting.add_outcome")
