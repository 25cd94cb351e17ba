"""A ``rediss://`` broker (issue 16): the worker talks TLS to Redis through our own transport, so it
outlives Redis going away there too, and it checks the server's certificate unless told not to.

A redis-server of the test's own listens for TLS only, with a certificate from a throwaway CA made
with ``openssl``. The worker (the Procfile's command) gets ``CELERY_BROKER_URL=rediss://…`` with the
CA in the URL's query.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

from aicmo_site.broker_tls import broker_ssl_options
from tests.integration.test_broker_outage import (
    BUSY,
    HEARTBEAT,
    ROOT,
    Worker,
    heartbeats,
    procfile_worker_command,
    worker_database_url,
)
from tests.integration.test_redis_outage import OwnRedis, free_port, wait_for_ping

needs_servers = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("openssl") is None,
    reason="needs redis-server and openssl",
)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (
        folder / name for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=aicmo test CA",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(cert),
    )
    return ca, cert, key


class TlsRedis(OwnRedis):
    """A throwaway redis-server listening for TLS only (no plain port); stopped as OwnRedis is."""

    def __init__(self, port: int, folder: Path, ca: Path, cert: Path, key: Path) -> None:
        super().__init__(port, folder)
        self.ca, self.cert, self.key = ca, cert, key

    def start(self) -> None:
        self.spawn(
            "--port",
            "0",
            "--tls-port",
            str(self.port),
            "--tls-cert-file",
            str(self.cert),
            "--tls-key-file",
            str(self.key),
            "--tls-ca-cert-file",
            str(self.ca),
            "--tls-auth-clients",
            "no",
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, ssl=True, ssl_ca_certs=str(self.ca))
        try:
            wait_for_ping(client)
        except redis.ConnectionError:
            self.stop()  # never leave a server behind
            raise


def test_a_bare_rediss_url_checks_the_certificate_and_the_query_sets_the_rest():
    assert broker_ssl_options("rediss://cache.example:6380/0") == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert broker_ssl_options(
        "rediss://:pw@cache.example:6380/0?ssl_cert_reqs=none&ssl_ca_certs=/etc/ca.pem&ssl_check_hostname=false"
    ) == {"ssl_cert_reqs": ssl.CERT_NONE, "ssl_ca_certs": "/etc/ca.pem", "ssl_check_hostname": False}


def test_settings_name_our_transport_for_rediss():
    """The deployed settings, read in a fresh interpreter as a worker would."""
    code = (
        "import django, ssl; from django.conf import settings; django.setup(); "
        "print(settings.CELERY_BROKER_TRANSPORT, "
        "settings.CELERY_BROKER_USE_SSL['ssl_cert_reqs'] == ssl.CERT_REQUIRED)"
    )
    env = {
        **os.environ,
        "CELERY_BROKER_URL": "rediss://cache.example:6380/0",
        "DJANGO_SETTINGS_MODULE": "aicmo_site.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-2:] == ["aicmo_site.celery:RedisTransport", "True"]


@needs_servers
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_a_tls_broker_checks_its_certificate_and_outlives_an_outage(tmp_path):
    ca, cert, key = make_certificates(tmp_path)
    server = TlsRedis(free_port(), tmp_path, ca, cert, key)
    server.start()
    url = f"rediss://127.0.0.1:{server.port}/0?ssl_cert_reqs=required&ssl_ca_certs={ca}"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env.update(
        DATABASE_URL=worker_database_url(tmp_path), AICMO_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1"
    )
    command = [
        *procfile_worker_command(),
        "--queues=tls",
        "--hostname=tls@%h",
        "--include=tests.integration.broker_outage_tasks",
    ]
    producer = Celery("aicmo-tls-test", set_as_current=False)
    producer.config_from_object("django.conf:settings", namespace="CELERY")
    producer.conf.update(
        broker_url=url,
        broker_transport="aicmo_site.celery:RedisTransport",
        broker_use_ssl=broker_ssl_options(url),
        broker_transport_options={},
        task_always_eager=False,
    )
    workers: list[Worker] = []
    try:
        # A worker that does not trust the server's CA refuses the connection.
        stranger = Worker(
            command,
            {**env, "CELERY_BROKER_URL": f"rediss://127.0.0.1:{server.port}/0"},
            tmp_path / "stranger.log",
        )
        workers.append(stranger)
        stranger.wait_for("a refused certificate", 60, lambda: "CERTIFICATE_VERIFY_FAILED" in stranger.text())
        stranger.stop()

        worker = Worker(command, {**env, "CELERY_BROKER_URL": url}, tmp_path / "tls.log")
        workers.append(worker)
        worker.wait_for("start-up", 60, lambda: " ready." in worker.text())
        marker = tmp_path / "busy"
        producer.send_task(BUSY, args=[6, str(marker)], queue="tls")
        worker.wait_for("the task to start", 20, Path(f"{marker}.started").exists)
        server.stop()  # busy, over TLS: the worker must not die ("Unrecoverable error")
        worker.wait_for("the connection loss", 10, lambda: "Connection to broker lost" in worker.text())
        time.sleep(8)
        assert worker.alive(), worker.tail()
        server.start()
        producer.send_task(HEARTBEAT, queue="tls")
        worker.wait_for("a heartbeat after the outage", 45, lambda: heartbeats(worker) == 1)
        assert Path(f"{marker}.done").exists()
        assert "Unrecoverable error" not in worker.text()
    finally:
        for w in workers:
            w.stop()
        producer.close()
        server.stop()
