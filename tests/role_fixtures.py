"""Staff users in the role groups (not superusers), for permission tests in any app."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory


def _staff_in(role: str, username: str):
    user = UserFactory(username=username, is_staff=True, is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def operator_role_user(db):
    """Agency staff in the operator group: runs campaigns, may not approve high-risk work."""
    return _staff_in("operator", "role-operator")


@pytest.fixture
def approver_role_user(db):
    return _staff_in("approver", "role-approver")


@pytest.fixture
def admin_role_user(db):
    return _staff_in("admin", "role-admin")
