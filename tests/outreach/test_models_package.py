"""The outreach models package names every model of its modules (Django and callers import them
from ``outreach.models``), so a model added to a module without its name here fails this test."""

from __future__ import annotations

import outreach.models as package
from outreach.models import operator_tasks, sending


def test_the_package_names_every_public_name_of_its_modules():
    for module in (operator_tasks, sending):
        missing = [n for n in module.__all__ if getattr(package, n, None) is not getattr(module, n)]
        assert not missing, f"outreach/models/__init__.py does not name {missing} of {module.__name__}"
