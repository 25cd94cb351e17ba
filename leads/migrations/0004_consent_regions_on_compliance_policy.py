"""Consent regions move from LeadPolicy to the campaign's compliance policy (one source)."""

from django.db import migrations


def copy_regions_to_compliance_policy(apps, schema_editor):
    LeadPolicy = apps.get_model("leads", "LeadPolicy")
    CompliancePolicy = apps.get_model("campaigns", "CompliancePolicy")
    for policy in LeadPolicy.objects.exclude(consent_regions=[]):
        compliance, _ = CompliancePolicy.objects.get_or_create(campaign_id=policy.campaign_id)
        merged = list(dict.fromkeys([*(compliance.consent_regions or []), *policy.consent_regions]))
        compliance.consent_regions = merged
        compliance.save(update_fields=["consent_regions"])


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0003_lead_ordering"),
        ("campaigns", "0003_roles"),
    ]

    operations = [
        migrations.RunPython(copy_regions_to_compliance_policy, migrations.RunPython.noop),
        migrations.RemoveField(model_name="historicalleadpolicy", name="consent_regions"),
        migrations.RemoveField(model_name="leadpolicy", name="consent_regions"),
    ]
