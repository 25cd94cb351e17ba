"""TLS options for a ``rediss://`` Celery broker, read from the URL's query string.

Settings name our own Redis transport (aicmo_site/celery.py) for ``rediss://`` as for ``redis://``;
kombu then passes ``CELERY_BROKER_USE_SSL`` to redis-py's SSL connection. The URL spells them as
redis-py and Celery document them: ``ssl_cert_reqs`` (required, optional or none; default
required — kombu's own default for a bare ``rediss://`` is to check nothing), ``ssl_ca_certs``,
``ssl_certfile``, ``ssl_keyfile`` and ``ssl_check_hostname``.
"""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

CERT_REQS = {
    "required": ssl.CERT_REQUIRED,
    "cert_required": ssl.CERT_REQUIRED,
    "optional": ssl.CERT_OPTIONAL,
    "cert_optional": ssl.CERT_OPTIONAL,
    "none": ssl.CERT_NONE,
    "cert_none": ssl.CERT_NONE,
}
FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")


def broker_ssl_options(url: str) -> dict:
    query = {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}
    reqs = query.get("ssl_cert_reqs", "required").strip().lower()
    if reqs not in CERT_REQS:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL: ssl_cert_reqs={reqs!r} is not one of required, optional, none."
        )
    options: dict = {"ssl_cert_reqs": CERT_REQS[reqs]}
    options.update({name: query[name] for name in FILES if query.get(name)})
    if "ssl_check_hostname" in query:
        options["ssl_check_hostname"] = query["ssl_check_hostname"].lower() in ("1", "true", "yes")
    return options
