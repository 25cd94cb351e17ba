"""The HTTP side of a delivery: one POST to the address the SSRF guard checked, with a timeout.

It connects to the resolved and checked IP (never resolving the name again, so DNS cannot point
elsewhere between check and connect) and sends the name as the Host header and, for https, as the
TLS server name the certificate is verified against. Redirects are not followed (a redirect is a
failure: it could lead anywhere). Connections are pooled per address within one dispatcher run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import urllib3

from .models import MAX_RESPONSE_BODY_CHARS
from .url_guard import Target, UnsafeUrlError, check_url


@dataclass(frozen=True)
class HttpResult:
    status: int | None = None
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Transport:
    def __init__(self, *, timeout: float, maxsize: int = 8, ca_certs: str | None = None) -> None:
        self.timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        self.maxsize = maxsize
        self.ca_certs = ca_certs  # None: the system's trust store
        self._pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.address, target.port, target.hostname)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if target.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(
                        target.address,
                        target.port,
                        maxsize=self.maxsize,
                        server_hostname=target.hostname,
                        assert_hostname=target.hostname,
                        cert_reqs="CERT_REQUIRED",
                        ca_certs=self.ca_certs,
                    )
                else:
                    pool = urllib3.HTTPConnectionPool(target.address, target.port, maxsize=self.maxsize)
                self._pools[key] = pool
            return pool

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        try:
            target = check_url(url)  # at every delivery: the name may resolve elsewhere now
        except UnsafeUrlError as exc:
            return HttpResult(error=exc.message[:500])
        pool = self._pool(target)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "Host": target.host_header},
                retries=False,
                redirect=False,
                timeout=self.timeout,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return HttpResult(error=f"{type(exc).__name__}: {exc}"[:500])
        try:
            raw = response.read(MAX_RESPONSE_BODY_CHARS)
        except urllib3.exceptions.HTTPError as exc:
            response.close()
            return HttpResult(status=response.status, error=f"reading the answer: {exc}"[:500])
        if response.length_remaining == 0:
            response.release_conn()  # answer read to its end: the connection is reused
        else:
            response.close()  # a longer (or unsized) answer is not read on
        return HttpResult(status=response.status, body=raw.decode("utf-8", "replace"))

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
