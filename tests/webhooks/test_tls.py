"""The delivery connects to the checked address but verifies TLS against the URL's host name
(SNI and certificate), and sends that name as the Host header."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading

import pytest

from webhooks.transport import Transport

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def tls_server(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = self.headers["Host"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], str(cert)
    server.shutdown()
    server.server_close()


def test_https_verifies_the_host_name_while_connecting_to_the_checked_address(tls_server, settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True
    port, ca = tls_server
    transport = Transport(timeout=3, ca_certs=ca)
    ok = transport.post(f"https://localhost:{port}/hook", b"{}", {})
    assert ok.status == 200 and ok.body == f"localhost:{port}"
    # the same server by its address: the certificate does not name it, so nothing is sent
    refused = transport.post(f"https://127.0.0.1:{port}/hook", b"{}", {})
    assert refused.status is None and "match" in refused.error
    untrusted = Transport(timeout=3).post(f"https://localhost:{port}/hook", b"{}", {})
    assert untrusted.status is None and "certificate" in untrusted.error.lower()
    transport.close()
