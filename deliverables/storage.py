"""Where packages and report PDFs are stored: Django's storage API, so S3 is a setting away.

``STORAGES["deliverables"]`` when the project defines it (e.g. django-storages' S3 backend with
its own bucket and ``querystring_auth``), else the default storage (``MEDIA_ROOT`` on disk).
Files are never served from the storage's own URL: downloads go through signed, client-scoped
links (``deliverables.links``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, default_storage, storages

STORAGE_ALIAS = "deliverables"


def deliverables_storage() -> Storage:
    if STORAGE_ALIAS in getattr(settings, "STORAGES", {}):
        return storages[STORAGE_ALIAS]
    return default_storage
