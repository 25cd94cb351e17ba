"""Agency roles as permission groups: operator, approver, admin.

The groups are created by migration ``campaigns.0003_roles``. Apps above ``campaigns`` add their
own permissions to a role from ``AppConfig.ready()`` with :func:`register_role_permissions`
(e.g. strategy: ``register_role_permissions("approver", ["strategy.approve_strategyvariant"])``);
after every ``migrate`` :func:`sync_role_groups` grants what was registered. Syncing only adds
permissions, so what an admin granted by hand in the admin is never taken away.

Client users get no group: they use the API only and are scoped to their own client.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

OPERATOR = "operator"
APPROVER = "approver"
ADMIN = "admin"
ROLES = (OPERATOR, APPROVER, ADMIN)

# "app_label.codename" per role; each role also has everything of the roles before it.
_OPERATOR_PERMISSIONS = [
    "campaigns.view_client",
    # Onboarding a new client (a name) starts the operator's journey; changing a
    # client, its compliance policy and its API users stays with the admin.
    "campaigns.add_client",
    # …and its sender identity (from, reply-to, sending domain, postal address: docs/senders.md)
    "campaigns.change_sender_identity",
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.view_auditevent",
    "campaigns.view_spendentry",
    "campaigns.add_spendentry",
    "campaigns.view_riskflag",
    "campaigns.view_compliancepolicy",
    "campaigns.view_systemswitch",
    "campaigns.view_auditdailysummary",
]
_APPROVER_PERMISSIONS = [
    "campaigns.approve_high_risk",
    "campaigns.override_checks",
    "campaigns.change_riskflag",
    # circuit breakers and auto-pause rules are lifted by an approver, with a rationale
    "campaigns.resume_safety_pause",
]
_ADMIN_PERMISSIONS = [
    "campaigns.change_client",
    "campaigns.manage_budget",
    "campaigns.add_compliancepolicy",
    "campaigns.change_compliancepolicy",
    "campaigns.change_systemswitch",
]

_registered: dict[str, list[str]] = {
    OPERATOR: list(_OPERATOR_PERMISSIONS),
    APPROVER: list(_APPROVER_PERMISSIONS),
    ADMIN: list(_ADMIN_PERMISSIONS),
}


def register_role_permissions(role: str, permissions: list[str]) -> None:
    """Grant ``["app_label.codename", ...]`` to ``role`` (and the roles above it) on the next sync."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    for perm in permissions:
        if "." not in perm:
            raise ValueError(f"Give permissions as 'app_label.codename', got {perm!r}.")
        if perm not in _registered[role]:
            _registered[role].append(perm)


def role_permissions(role: str) -> list[str]:
    """Every permission of ``role``, including those of the roles below it."""
    upto = ROLES.index(role)
    return [perm for lower in ROLES[: upto + 1] for perm in _registered[lower]]


def sync_role_groups(*, apps: Any = None, using: str = "default") -> dict[str, int]:
    """Create the role groups and add their registered permissions. Returns perms granted per role."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    granted: dict[str, int] = {}
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = role_permissions(role)
        found = []
        for perm in wanted:
            app_label, codename = perm.split(".", 1)
            match = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if match is None:
                logger.debug("role %s: permission %s does not exist (yet); skipped", role, perm)
                continue
            found.append(match)
        group.permissions.add(*found)
        granted[role] = len(found)
    return granted


def sync_role_groups_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: the permissions of every app exist only after all migrations ran."""
    sync_role_groups(using=using)
