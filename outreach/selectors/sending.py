"""selectors for email sending."""

from __future__ import annotations

from ..models import Enrollment

__all__ = ["unsubscribe_address"]


def unsubscribe_address(*, enrollment_id: int) -> str:
    """The address an enrollment's unsubscribe link stands for: '' when the enrollment is gone or
    its lead was erased (an erased address is already suppressed for everyone)."""
    email = (
        Enrollment.objects.filter(pk=enrollment_id, lead__erased_at__isnull=True)
        .values_list("lead__email", flat=True)
        .first()
    )
    return email or ""
