"""Every admin list, change and history page of the project renders for every agency role over a
world with every kind of object (tests/api_fuzz/world.py): what the kit adds (declared
permissions, JSON as tables, badges, words for codes) never breaks a page, and read-only JSON is
never shown raw."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from tests.api_fuzz.world import build_client_world
from tests.conftest import FIXED_NOW
from tests.factories import StaffUserFactory, UserFactory

PROJECT_APPS = {"campaigns", "strategy", "creative", "leads", "outreach", "reporting"}
ROLES = ("operator", "approver", "admin", "superuser")


def _user(role: str):
    if role == "superuser":
        return StaffUserFactory(username="pages-superuser")
    user = UserFactory(username=f"pages-{role}", is_staff=True, is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.django_db
def test_every_admin_page_renders_for_every_role(client, role):
    with time_machine.travel(FIXED_NOW, tick=True):
        root = StaffUserFactory(username="pages-world-builder")
        build_client_world("azalea", root)
    user = _user(role)
    client.force_login(user)
    for model in admin.site._registry:
        if model._meta.app_label not in PROJECT_APPS:
            continue
        app, name = model._meta.app_label, model._meta.model_name
        listing = client.get(reverse(f"admin:{app}_{name}_changelist"))
        assert listing.status_code in (200, 302, 403), (model, listing.status_code)
        obj = model._default_manager.order_by("pk").first()
        if obj is None or listing.status_code != 200:
            continue
        for view in ("change", "history"):
            try:
                url = reverse(f"admin:{app}_{name}_{view}", args=[obj.pk])
            except NoReverseMatch:
                continue
            page = client.get(url)
            assert page.status_code in (200, 302, 403), (model, view, page.status_code)
            if page.status_code == 200 and view == "change":
                html = page.content.decode()
                # A read-only JSON value is a table or a list, never {"key": …} or ["…"] text.
                assert not re.search(r'<div class="readonly">\s*[\[{]', html), (model, view)
