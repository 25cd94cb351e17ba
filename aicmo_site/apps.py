"""The project's own app config: process-wide tuning that must run once every app is ready."""

from __future__ import annotations

import gc

from django.apps import AppConfig
from django.conf import settings


class RuntimeConfig(AppConfig):
    """Listed last in INSTALLED_APPS, so its ``ready`` runs after every other app's.

    CPython's cyclic garbage collector re-scans every tracked object at each full collection. After
    start-up a Django process holds a few hundred thousand long-lived objects (modules, classes,
    models' metadata, URL patterns) that will never be garbage, and the ORM allocates fast enough to
    trigger collections every few hundred objects, each re-scanning all of them (the share of time
    this costs is in docs/PERFORMANCE.md, "End to end"). ``gc.freeze()`` moves the start-up objects out of the
    collector's sight (as gunicorn and Celery deployments do after preloading), and a larger
    first-generation threshold makes collections rarer. Both only change when cycles are
    collected, never what is collected; ``AICMO_GC_TUNING=0`` turns this off.
    """

    name = "aicmo_site"
    label = "aicmo_runtime"
    verbose_name = "AICMO runtime"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the hardening deploy checks)

        if not settings.AICMO_GC_TUNING:
            return
        gc.collect()
        gc.freeze()
        _, second, third = gc.get_threshold()
        gc.set_threshold(settings.AICMO_GC_THRESHOLD, second, third)
