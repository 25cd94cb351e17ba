"""Create the role groups (operator, approver, admin) with the campaigns app's permissions.

Permissions are normally created after all migrations (post_migrate); create this app's now so
the groups can get them. Permissions of apps registered later are added by
campaigns.roles.sync_role_groups after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR = [
    "view_client",
    "view_campaign",
    "add_campaign",
    "change_campaign",
    "view_auditevent",
    "view_spendentry",
    "add_spendentry",
    "view_riskflag",
    "view_compliancepolicy",
    "view_systemswitch",
    "view_auditdailysummary",
]
APPROVER = OPERATOR + ["approve_high_risk", "override_checks", "change_riskflag"]
ADMIN = APPROVER + [
    "add_client",
    "change_client",
    "manage_budget",
    "add_compliancepolicy",
    "change_compliancepolicy",
    "change_systemswitch",
]
ROLES = {"operator": OPERATOR, "approver": APPROVER, "admin": ADMIN}


def create_role_groups(apps, schema_editor):
    app_config = apps.get_app_config("campaigns")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for name, codenames in ROLES.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        perms = Permission.objects.using(db).filter(
            content_type__app_label="campaigns", codename__in=codenames
        )
        group.permissions.add(*perms)


def remove_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_governance"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
