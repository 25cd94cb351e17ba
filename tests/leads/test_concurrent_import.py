"""Two imports of overlapping files at the same time create no duplicate (PostgreSQL, real threads)."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection

from leads.importers import import_leads_from_csv
from leads.models import Lead
from tests.factories import CampaignFactory


def overlapping_files() -> tuple[bytes, bytes]:
    first = [f"person{i}@example.com" for i in range(0, 600)]
    second = [f"PERSON{i}@example.com" for i in range(300, 900)]  # 300 overlap, other case
    second.reverse()  # a different insertion order makes lock waits likelier
    return ("email\n" + "\n".join(first)).encode(), ("email\n" + "\n".join(second)).encode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch_size", [50, None], ids=["python path in batches", "postgres file path"])
def test_concurrent_overlapping_imports_create_no_duplicates(batch_size):
    campaign = CampaignFactory()
    files = overlapping_files()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run(data: bytes) -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(
                import_leads_from_csv(campaign=campaign, file=io.BytesIO(data), batch_size=batch_size)
            )
        except Exception as exc:  # surfaced below with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(data,)) for data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert Lead.objects.filter(campaign=campaign).count() == 900
    assert Lead.objects.filter(campaign=campaign).values("normalized_email").distinct().count() == 900
    assert sum(r.inserted for r in reports) == 900
    assert sum(r.duplicates_in_campaign for r in reports) == 300
    assert all(r.inserted + r.rejected == r.rows_read == 600 for r in reports)
