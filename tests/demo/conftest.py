import pytest


@pytest.fixture(autouse=True)
def _debug_on(settings):
    """`manage.py demo` creates logins with published passwords, so it runs only with DEBUG on (a
    developer's machine); pytest-django turns DEBUG off. tests/security checks the refusal."""
    settings.DEBUG = True
