"""A real HTTP receiver on loopback that verifies Standard Webhooks signatures with the
``standardwebhooks`` library and de-duplicates by webhook-id, as a well-behaved receiver does.

``script`` lists what the next requests get: an int status, "timeout" (answers after the
dispatcher's timeout) or "ok"; once it is empty every request gets 200.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the dispatcher connects from several threads at once


class Receiver:
    def __init__(self, secrets: list[str] | None = None, port: int = 0) -> None:
        self.secrets = list(secrets or [])
        self.script: list = []
        self.requests: list[dict] = []  # every request: headers, body, verified
        self.accepted: dict[str, dict] = {}  # webhook-id -> parsed body, first time only
        self.duplicates = 0
        self.rejected = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    action = receiver.script.pop(0) if receiver.script else "ok"
                if action == "timeout":
                    time.sleep(receiver.slow_seconds)
                    action = 200
                status = 200 if action == "ok" else int(action)
                verified = receiver.verify(body, headers)
                with receiver.lock:
                    receiver.requests.append({"headers": headers, "body": body, "verified": verified})
                    if status < 300:
                        if not verified:
                            status = 401
                            receiver.rejected += 1
                        elif headers["webhook-id"] in receiver.accepted:
                            receiver.duplicates += 1
                        else:
                            receiver.accepted[headers["webhook-id"]] = json.loads(body)
                answer = b'{"ok": true}' if status < 300 else b"x" * 5000
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the dispatcher may have given up waiting
                    self.wfile.write(answer)

        self.slow_seconds = 2.0
        self.server = _Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, body: bytes, headers: dict) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def events(self) -> list[dict]:
        """Every event accepted, batches unpacked."""
        found = []
        for body in self.accepted.values():
            found.extend(body["data"]["events"] if body["type"] == "batch" else [body])
        return found

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
