"""README's "Who can do what" table is the role data, not a copy of it; the demo logins it names
are one per role.

Each row names actions (``campaigns.permissions``) or Django permissions (``app_label.codename``) in
backticks and says, per role, whether it may. The test reads the table and asks the real thing: a
staff user in each role group (``tests/role_fixtures.py``) through ``is_allowed`` / ``has_perm``, and
each action's rule for client users. Every registered action must have a row, so a new action
cannot be added without saying in the README who may take it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from campaigns.demo_accounts import DEMO_PASSWORDS, DEMO_STAFF
from campaigns.models import User
from campaigns.permissions import (
    CLIENTS_IF_CLIENT_APPROVAL,
    CLIENTS_NEVER,
    CLIENTS_OWN,
    is_allowed,
    registered_actions,
)

README = Path(__file__).resolve().parents[2] / "README.md"
STAFF_ROLES = ("operator", "approver", "admin")
CLIENT_CELL = {
    CLIENTS_NEVER: "no",
    CLIENTS_OWN: "own",
    CLIENTS_IF_CLIENT_APPROVAL: "own, if client approval",
}


@dataclass(frozen=True)
class Row:
    what: str
    keys: tuple[str, ...]
    client: str
    staff: dict[str, bool]


def _yes(cell: str) -> bool:
    if cell.startswith("yes"):
        return True
    assert cell.startswith("no"), f"a role's cell says yes or no, got {cell!r}"
    return False


def readme_rows() -> list[Row]:
    text = README.read_text(encoding="utf-8")
    assert "\n## Who can do what\n" in text, "README has no 'Who can do what' section"
    section = text.split("\n## Who can do what\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith(("| what", "|---")):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 6, f"a row has 6 cells (what, keys, client user, 3 roles): {line}"
        keys = tuple(re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[1]))
        assert keys, f"a row names its actions or permissions in backticks: {line}"
        rows.append(
            Row(
                what=cells[0],
                keys=keys,
                client=cells[2].lower(),
                staff={role: _yes(cell.lower()) for role, cell in zip(STAFF_ROLES, cells[3:], strict=True)},
            )
        )
    return rows


ROWS = readme_rows()


@pytest.fixture
def role_users(operator_role_user, approver_role_user, admin_role_user):
    return {"operator": operator_role_user, "approver": approver_role_user, "admin": admin_role_user}


def test_the_table_has_rows_and_every_registered_action_has_one():
    assert len(ROWS) >= 10
    named = {key for row in ROWS for key in row.keys}
    missing = sorted(set(registered_actions()) - named)
    assert not missing, f"README 'Who can do what' has no row for: {', '.join(missing)}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.what)
def test_each_row_says_what_the_roles_may_do(row, role_users):
    actions = registered_actions()
    for key in row.keys:
        if key in actions:
            rule = actions[key]
            for role, user in role_users.items():
                assert is_allowed(user, key) is row.staff[role], (
                    f"{row.what!r}: the README says {role} {'may' if row.staff[role] else 'may not'} "
                    f"take {key}, the rule ({rule.staff_permission}) says otherwise"
                )
            assert row.client == CLIENT_CELL[rule.clients], (
                f"{row.what!r}: client users' cell should read {CLIENT_CELL[rule.clients]!r} for {key}"
            )
        else:
            app_label, codename = key.split(".", 1)
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
                f"{row.what!r}: {key} is neither a registered action nor a permission"
            )
            for role, user in role_users.items():
                assert user.has_perm(key) is row.staff[role], (
                    f"{row.what!r}: the README says {role} {'has' if row.staff[role] else 'lacks'} {key}"
                )
            # Client users hold no permission: only a read (scoped to their client) may say "own".
            assert row.client == "no" or "read" in row.client, row


def test_each_role_may_do_all_its_predecessor_may():
    for row in ROWS:
        allowed = [row.staff[role] for role in STAFF_ROLES]
        assert allowed == sorted(allowed), f"{row.what!r}: a higher role may do less than a lower one"


# --- the demo logins: one per role, none a superuser ----------------------------------------------


def test_seed_demo_makes_one_login_per_role_and_none_is_a_superuser(db, settings):
    settings.DEBUG = True  # demo accounts exist only on a developer's machine
    User.objects.create_user("operator", password="x", is_staff=True, is_superuser=True)  # an old seed
    call_command("seed_demo", stdout=io.StringIO())

    for username, (role, _first, _last) in DEMO_STAFF.items():
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser, username
        assert list(user.groups.values_list("name", flat=True)) == [role], username
    staff = {username: User.objects.get(username=username) for username in DEMO_STAFF}
    assert is_allowed(staff["operator"], "strategy.decide")
    assert not is_allowed(staff["operator"], "work.approve_high_risk")
    assert is_allowed(staff["approver"], "work.approve_high_risk")
    assert not is_allowed(staff["approver"], "campaign.change_budget")
    assert is_allowed(staff["agency-admin"], "campaign.change_budget")
    api_user = User.objects.get(username="acme-api")
    assert api_user.client_id is not None and not api_user.is_staff and not api_user.groups.exists()

    printed = io.StringIO()
    call_command("demo_access", stdout=printed)
    section = README.read_text(encoding="utf-8").split("\n## Who can do what\n", 1)[1].split("\n## ", 1)[0]
    for username, (role, _first, _last) in DEMO_STAFF.items():
        assert f"{username} / {DEMO_PASSWORDS[username]} ({role} role)" in printed.getvalue()
        assert f"`{username}`" in section, f"README's 'Who can do what' does not name the demo {username}"
