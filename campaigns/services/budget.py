"""Budget: the spend ledger, the cap check every spending path calls, and raising the cap.

Generation calls ``ensure_budget_allows`` before paying for a call and ``record_spend`` after;
sending claims no more than the budget pays for and books its sends with ``record_spend`` after
they went out, once each (outreach's ``Message.cost_unbooked`` is cleared in that transaction). Both raise
``BudgetExhaustedError`` with the reason, which is also stored on the campaign (admin and API show
it) until ``raise_budget_cap`` lifts it. Catch the error *inside* your transaction to keep that
reason: if it propagates out of your ``atomic`` block, the stored reason rolls back with it.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone

from ..actors import acting_user
from ..errors import BudgetExhaustedError, DomainError
from ..events import emit_event
from ..ids import campaign_id_of
from ..lock_objects import campaign_for_update
from ..models import Campaign, SpendEntry, SpendKind, User
from ..permissions import require_action_unless_system
from ..selectors import MONEY, budget_exhausted_reason, budget_status, campaign_spent
from .audit import record_audit_event

logger = logging.getLogger(__name__)


def _as_amount(value: Any, *, field: str = "amount") -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(f"{field} must be a number, got {value!r}.", field=field) from None
    if not amount.is_finite():
        raise DomainError(f"{field} must be a finite number, got {value!r}.", field=field)
    return amount


def record_spend(
    *,
    campaign: Campaign | int,
    kind: str,
    amount: Decimal | str | float,
    source: models.Model | None = None,
    actor: User | None = None,
    description: str = "",
    currency: str | None = None,
    enforce_cap: bool = True,
) -> SpendEntry:
    """Book a cost to the campaign's ledger under its row lock, so concurrent spends cannot
    overshoot the cap: a spend that would exceed it is refused (BudgetExhaustedError) and stops
    the campaign's spending work. ``enforce_cap=False`` books a cost already incurred elsewhere
    (e.g. an ad invoice entered by hand) even past the cap. Crossing the warning share writes
    ``budget.warning`` once and emails the owner after commit."""
    if kind not in SpendKind.values:
        raise DomainError(
            f"Unknown spend kind {kind!r}; use one of: {', '.join(SpendKind.values)}.", field="kind"
        )
    amount = _as_amount(amount)
    if amount == 0:
        raise DomainError("A spend of 0 books nothing.", field="amount")
    if amount < 0 and kind != SpendKind.MANUAL:
        raise DomainError("Only manual entries may be negative (corrections).", field="amount")
    campaign_id = campaign_id_of(campaign)
    refusal = ""
    with transaction.atomic():
        locked = campaign_for_update(campaign_id)
        if currency and currency.strip().upper() != locked.currency:
            raise DomainError(
                f"Campaign {campaign_id} books in {locked.currency}, not {currency}; convert first.",
                field="currency",
            )
        spent = campaign_spent(locked)
        cap = locked.budget_cap
        if (
            enforce_cap
            and amount > 0
            and cap is not None
            and (locked.spending_blocked_reason or spent + amount > cap)
        ):
            refusal = locked.spending_blocked_reason or budget_exhausted_reason(
                locked, spent=spent, next_amount=amount
            )
        else:
            entry = SpendEntry(
                campaign=locked,
                kind=kind,
                amount=amount,
                currency=locked.currency,
                description=(description or "")[:300],
                created_by=acting_user(actor),
                created_at=timezone.now(),
            )
            if source is not None:
                entry.source_type = ContentType.objects.get_for_model(source, for_concrete_model=False)
                entry.source_id = str(source.pk)
            entry.save()
            # "spend.*" (not "budget.*") so the per-email rows may be summarised by retention.
            record_audit_event(
                verb="spend.recorded",
                actor=actor,
                campaign=locked,
                target=entry,
                rationale=description,
                metadata={"kind": kind, "amount": str(amount), "currency": locked.currency},
            )
            _after_spend(locked, spent=spent + amount, actor=actor)
    if refusal:
        _block_spending(campaign_id, reason=refusal, actor=actor)
        raise BudgetExhaustedError(refusal, campaign=campaign_id)
    return entry


def _after_spend(locked: Campaign, *, spent: Decimal, actor: User | None) -> None:
    cap = locked.budget_cap
    if cap is None:
        return
    ratio = spent / cap if cap > 0 else Decimal(1)
    if ratio >= settings.AICMO_BUDGET_WARNING_RATIO and locked.budget_warned_at is None:
        locked.budget_warned_at = timezone.now()
        locked.skip_history_when_saving = True
        locked.save(update_fields=["budget_warned_at"])
        del locked.skip_history_when_saving
        record_audit_event(
            verb="budget.warning",
            actor=actor,
            campaign=locked,
            target=locked,
            rationale=f"Spent {ratio:.0%} of the budget cap.",
            metadata={"spent": str(spent.quantize(MONEY)), "cap": str(cap), "currency": locked.currency},
        )
        emit_event(
            "budget.warning",
            client=locked.client_id,
            campaign=locked,
            data={"spent": str(spent.quantize(MONEY)), "cap": str(cap), "currency": locked.currency},
        )
        _email_owner_after_commit(locked, subject=f"Budget warning: {locked.name} at {ratio:.0%} of its cap")
    if ratio >= 1 and not locked.spending_blocked_reason:
        _set_block(locked, reason=budget_exhausted_reason(locked, spent=spent), actor=actor)


def _set_block(locked: Campaign, *, reason: str, actor: User | None) -> None:
    locked.spending_blocked_reason = reason[:500]
    locked._change_reason = reason[:100]
    locked._history_user = acting_user(actor)
    locked.save(update_fields=["spending_blocked_reason", "updated_at"])
    record_audit_event(verb="budget.exhausted", actor=actor, campaign=locked, target=locked, rationale=reason)
    cap = None if locked.budget_cap is None else str(locked.budget_cap)
    emit_event(
        "budget.blocked",
        client=locked.client_id,
        campaign=locked,
        data={"reason": locked.spending_blocked_reason, "cap": cap, "currency": locked.currency},
    )
    _email_owner_after_commit(locked, subject=f"Budget exhausted: {locked.name} stopped spending")


def _block_spending(campaign_id: int, *, reason: str, actor: User | None) -> None:
    with transaction.atomic():
        locked = campaign_for_update(campaign_id)
        if not locked.spending_blocked_reason:
            _set_block(locked, reason=reason, actor=actor)


def _email_owner_after_commit(campaign: Campaign, *, subject: str) -> None:
    owner = campaign.owner
    if owner is None or not owner.email:
        return
    status = budget_status(campaign)
    body = (
        f"Campaign “{campaign.name}” (id {campaign.pk}) has spent {status.spent.quantize(MONEY)} of its "
        f"{status.cap} {status.currency} budget cap.\n"
        + (f"\n{status.blocked_reason}\n" if status.blocked_reason else "")
        + f"\n{settings.PUBLIC_BASE_URL}/admin/campaigns/campaign/{campaign.pk}/change/\n"
    )
    recipient = owner.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [recipient])
        except Exception:  # an unreachable mail server must not undo the booked spend
            logger.exception("budget email to %s for campaign %s failed", recipient, campaign.pk)

    transaction.on_commit(send)


def ensure_budget_allows(*, campaign: Campaign | int, amount: Decimal | str | float) -> None:
    """Refuse (BudgetExhaustedError, with the reason) when spending ``amount`` now would take the
    campaign past its cap, or when its spending is already stopped. Call it before paying for work."""
    amount = _as_amount(amount)
    campaign_id = campaign_id_of(campaign)
    fresh = Campaign.objects.only("id", "budget_cap", "currency", "spending_blocked_reason", "name").get(
        pk=campaign_id
    )
    if fresh.budget_cap is None:
        return
    if fresh.spending_blocked_reason:
        raise BudgetExhaustedError(fresh.spending_blocked_reason, campaign=campaign_id)
    spent = campaign_spent(fresh)
    if spent + amount > fresh.budget_cap:
        reason = budget_exhausted_reason(fresh, spent=spent, next_amount=amount)
        _block_spending(campaign_id, reason=reason, actor=None)
        raise BudgetExhaustedError(reason, campaign=campaign_id)


def raise_budget_cap(
    *, campaign: Campaign | int, new_cap: Decimal | str | float | None, actor: User | None, rationale: str
) -> Campaign:
    """Change the cap (``None`` removes it), audited with a rationale; a person needs
    ``campaign.change_budget`` (the admin role's ``campaigns.manage_budget``). Spending resumes when the
    new cap leaves room; the warning is re-armed when the new cap puts spend below the warning share."""
    require_action_unless_system(actor, "campaign.change_budget", campaign)
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("Give a rationale for changing the budget cap.", field="rationale")
    cap = None if new_cap in (None, "") else _as_amount(new_cap, field="budget_cap")
    if cap is not None and cap < 0:
        raise DomainError("The budget cap cannot be negative.", field="budget_cap")
    if cap is not None:
        cap = cap.quantize(MONEY)
    campaign_id = campaign_id_of(campaign)
    with transaction.atomic(durable=True):
        locked = campaign_for_update(campaign_id)
        before = locked.budget_cap
        spent = campaign_spent(locked)
        locked.budget_cap = cap
        unblocked = False
        ratio = None if cap is None else (spent / cap if cap > 0 else Decimal(1))
        if locked.spending_blocked_reason and (ratio is None or ratio < 1):
            locked.spending_blocked_reason = ""
            unblocked = True
        if ratio is None or ratio < settings.AICMO_BUDGET_WARNING_RATIO:
            locked.budget_warned_at = None
        locked._change_reason = rationale[:100]
        locked._history_user = acting_user(actor)
        locked.save(update_fields=["budget_cap", "spending_blocked_reason", "budget_warned_at", "updated_at"])
        record_audit_event(
            verb="budget.cap_changed",
            actor=actor,
            campaign=locked,
            target=locked,
            rationale=rationale,
            metadata={
                "from": None if before is None else str(before),
                "to": None if cap is None else str(cap),
                "spent": str(spent.quantize(MONEY)),
                "currency": locked.currency,
                "unblocked": unblocked,
            },
        )
        if ratio is not None and ratio >= 1 and not locked.spending_blocked_reason:
            _set_block(locked, reason=budget_exhausted_reason(locked, spent=spent), actor=actor)
    return locked
