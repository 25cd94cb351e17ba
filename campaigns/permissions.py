"""Who may do what: one rule per named action, asked by the admin, the API, services and commands.

An action ("campaign.change_budget", "creative.override_checks") names one thing a person may do.
Its rule says two things:

- agency staff need one Django permission for it; the role groups of ``campaigns.roles``
  (operator < approver < admin) grant those, so the role that may do it follows from the
  permission (a superuser has every permission);
- client users (``user.client`` set, not staff) may do it on their own client's objects never,
  always, or only where the campaign allows client approval.

``require_action(user, action, obj)`` raises ``ActionNotPermittedError`` (a 403 in the API and the
admin) naming what is missing; ``is_allowed`` answers the same question without raising. Apps above
``campaigns`` declare their actions in their own ``permissions.py`` with :func:`register_action`,
imported from ``AppConfig.ready()`` (as they register role permissions). The API declares which
action each write endpoint is (``campaigns.api_permissions``), and ``tests/security`` checks every
mutating endpoint of the OpenAPI schema against the role-by-action table in ``docs/SECURITY.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ActionNotPermittedError
from .lifecycle import LIFECYCLE
from .models import Campaign, CampaignState, Client
from .roles import ROLES, role_permissions

# Who among client users may take an action, on objects of their own client.
CLIENTS_NEVER = "never"
CLIENTS_OWN = "own"
CLIENTS_IF_CLIENT_APPROVAL = "own_if_client_approval"
CLIENT_ACCESS = (CLIENTS_NEVER, CLIENTS_OWN, CLIENTS_IF_CLIENT_APPROVAL)


@dataclass(frozen=True)
class ActionRule:
    name: str
    label: str  # completes "may not …", e.g. "change a campaign's budget cap"
    staff_permission: str  # "app_label.codename" agency staff need
    clients: str = CLIENTS_NEVER

    @property
    def role(self) -> str:
        """The lowest role whose group holds the staff permission ("superuser" when none does)."""
        return role_for_permission(self.staff_permission)


_actions: dict[str, ActionRule] = {}


def register_action(
    name: str, *, label: str, staff_permission: str, clients: str = CLIENTS_NEVER
) -> ActionRule:
    """Declare an action and its rule. Registering the same name again with the same rule is a no-op;
    a different rule for a known name is refused (one rule per action)."""
    if clients not in CLIENT_ACCESS:
        raise ValueError(f"clients must be one of {', '.join(CLIENT_ACCESS)}, got {clients!r}.")
    if "." not in staff_permission:
        raise ValueError(f"Give the staff permission as 'app_label.codename', got {staff_permission!r}.")
    rule = ActionRule(name=name, label=label, staff_permission=staff_permission, clients=clients)
    known = _actions.get(name)
    if known is not None and known != rule:
        raise ValueError(f"Action {name!r} is already registered with another rule: {known}.")
    _actions[name] = rule
    return rule


def action_rule(name: str) -> ActionRule:
    try:
        return _actions[name]
    except KeyError:
        raise LookupError(f"Unknown action {name!r}; register it with register_action first.") from None


def registered_actions() -> dict[str, ActionRule]:
    return dict(sorted(_actions.items()))


def role_for_permission(permission: str) -> str:
    for role in ROLES:
        if permission in role_permissions(role):
            return role
    return "superuser"


# --- what a refusal says: the permission, the role that has it, the role the user has ----------


def role_title(role: str) -> str:
    return role.capitalize()


def user_role(user: Any) -> str:
    """The role ``user`` acts in, for messages: "superuser", the highest role group, "client user"
    (of a client), or "no role"."""
    if user is None or not user.is_authenticated:
        return "no role (not signed in)"
    if user.is_superuser:
        return "superuser"
    if is_client_user(user):
        return "client user"
    names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    held = [role for role in ROLES if role in names]
    return held[-1] if held else "no role"


def permission_needed(permission: str, user: Any = None) -> str:
    """What a refusal names, so the reader knows what to ask for and from whom: "the
    'app.codename' permission (role: Approver); you have the role Operator"."""
    text = f"the '{permission}' permission (role: {role_title(role_for_permission(permission))})"
    if user is not None:
        text += f"; you have the role {role_title(user_role(user))}"
    return text


# --- who is asking ---------------------------------------------------------------------------------


def is_staff_user(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def is_client_user(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_staff
        and getattr(user, "client_id", None)
    )


def campaign_of(obj: Any) -> Campaign | None:
    """The campaign an object belongs to (the object itself for a campaign), else None."""
    if obj is None:
        return None
    if isinstance(obj, Campaign):
        return obj
    campaign = getattr(obj, "campaign", None)
    return campaign if isinstance(campaign, Campaign) else None


def client_id_of(obj: Any) -> int | None:
    campaign = campaign_of(obj)
    if campaign is not None:
        return campaign.client_id
    if isinstance(obj, Client):
        return obj.pk
    return getattr(obj, "client_id", None)


# --- the decision ----------------------------------------------------------------------------------


def action_denial(user: Any, action: str, obj: Any = None) -> str:
    """Why ``user`` may not take ``action`` (on ``obj``), or "" when they may."""
    rule = action_rule(action)
    who = user.get_username() if user is not None and user.is_authenticated else "An anonymous user"
    if is_staff_user(user):
        if user.has_perm(rule.staff_permission):
            return ""
        return f"{who} may not {rule.label}: that needs {permission_needed(rule.staff_permission, user)}."
    if not is_client_user(user):
        return f"{who} may not {rule.label}: only agency staff and client users act here."
    if rule.clients == CLIENTS_NEVER:
        return (
            f"Client users may not {rule.label}; the agency does: it needs "
            f"{permission_needed(rule.staff_permission)}."
        )
    if obj is not None and client_id_of(obj) != user.client_id:
        return f"{who} may not {rule.label} for another client."
    if rule.clients == CLIENTS_IF_CLIENT_APPROVAL:
        campaign = campaign_of(obj)
        if campaign is None or not campaign.allow_client_approval:
            where = f"Campaign {campaign.pk}" if campaign is not None else "The campaign"
            return (
                f"{where} does not allow client approval, so client users may not {rule.label}; "
                "your agency decides."
            )
    return ""


def is_allowed(user: Any, action: str, obj: Any = None) -> bool:
    return not action_denial(user, action, obj)


def require_action(user: Any, action: str, obj: Any = None) -> None:
    """Raise ActionNotPermittedError (403) unless ``user`` may take ``action`` on ``obj``."""
    reason = action_denial(user, action, obj)
    if reason:
        rule = action_rule(action)
        raise ActionNotPermittedError(reason, action=action, permission=rule.staff_permission)


def require_action_unless_system(actor: Any, action: str, obj: Any = None) -> None:
    """For services: ``actor=None`` is the system (tasks, commands run by the host's operator,
    automation), trusted; a person is checked."""
    if actor is not None:
        require_action(actor, action, obj)


# --- the actions of campaigns ----------------------------------------------------------------------

CHANGE_CAMPAIGN = "campaigns.change_campaign"

register_action(
    "campaign.create",
    label="create a campaign",
    staff_permission="campaigns.add_campaign",
    clients=CLIENTS_OWN,
)
register_action(
    "campaign.set_agency_fields",
    label="set a campaign's approval rights, budget, caps, currency or owner",
    staff_permission=CHANGE_CAMPAIGN,
)
register_action(
    "campaign.change_budget",
    label="change a campaign's budget cap",
    staff_permission="campaigns.manage_budget",
)
register_action(
    "campaign.transition",
    label="take a lifecycle step (each step is then checked as campaign.<step>)",
    staff_permission=CHANGE_CAMPAIGN,
    clients=CLIENTS_OWN,
)
for _step in LIFECYCLE.values():
    register_action(
        f"campaign.{_step.name}",
        label=_step.action_label,
        staff_permission=CHANGE_CAMPAIGN,
        clients=_step.clients,
    )
register_action(
    "campaign.resume_safety_pause",
    label="resume a campaign that a safety rule paused (circuit breaker, auto-pause rule)",
    staff_permission="campaigns.resume_safety_pause",
)
register_action(
    "work.approve_high_risk",
    label="approve work that carries an open high-severity risk flag",
    staff_permission="campaigns.approve_high_risk",
)
register_action(
    "risk.override",
    label="override a risk flag or failing checks",
    staff_permission="campaigns.override_checks",
)
# Who a client's emails come from (docs/senders.md): set by staff at onboarding, never by clients.
register_action(
    "sender_identity.set",
    label="set a client's or a campaign's sender identity (from, reply-to, domain, postal address)",
    staff_permission="campaigns.change_sender_identity",
)
# Whoever may change users in the admin manages their API tokens (campaigns.api_tokens); a user
# gets their own token from the token endpoint with their password, which is no action.
register_action(
    "api_token.manage",
    label="create, rotate or revoke another user's API token",
    staff_permission="campaigns.change_user",
)


# --- why a campaign is paused, and who may resume it -----------------------------------------------


def pause_status(campaign: Campaign, user: Any = None) -> dict[str, Any] | None:
    """For a paused campaign: what paused it and why, who may resume it and whether ``user`` may;
    None when it is not paused. Shown by the API detail and the admin change page."""
    if campaign.state != CampaignState.PAUSED:
        return None
    safety = campaign.is_safety_paused
    action = "campaign.resume_safety_pause" if safety else "campaign.resume"
    rule = action_rule(action)
    if safety:
        who = (
            f"a person with the {rule.role} role ('{rule.staff_permission}'), with a rationale; "
            "client users and operators cannot"
        )
    else:
        who = f"client users of this client and agency staff with '{rule.staff_permission}'"
    status = {
        "kind": campaign.pause_kind or "manual",
        "safety": safety,
        "reason": campaign.state_reason,
        "since": campaign.state_changed_at,
        "resume_action": action,
        "resumable_by": who,
        "rationale_required": safety,
    }
    if user is not None:
        status["you_may_resume"] = is_allowed(user, "campaign.resume", campaign) and (
            not safety or is_allowed(user, action, campaign)
        )
    return status
