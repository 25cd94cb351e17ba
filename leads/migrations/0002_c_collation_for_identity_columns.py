"""PostgreSQL only: compare normalized addresses and domains byte-wise (COLLATE "C").

They are ASCII-lower-cased identities, never sorted for people, and a linguistic collation makes
every btree comparison a strcoll() call: the unique index on (normalized_email, campaign) was the
largest single cost of a bulk import (about 3× slower). SQLite compares bytes already.
"""

from django.db import migrations

COLUMNS = (
    ("leads_lead", "normalized_email", "varchar(254)"),
    ("leads_lead", "email_domain", "varchar(253)"),
    ("leads_historicallead", "normalized_email", "varchar(254)"),
    ("leads_historicallead", "email_domain", "varchar(253)"),
    ("leads_suppression", "value", "varchar(254)"),
    ("leads_consentrecord", "normalized_email", "varchar(254)"),
)


def use_c_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, type_ in COLUMNS:
        schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_} COLLATE "C"')


def use_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, type_ in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_} COLLATE \"default\"")


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(use_c_collation, use_default_collation)]
