"""A loopback stand-in for Postmark's email API, for ``bench/send_scale.py``.

    python bench/fake_esp.py --port 8025 --log /tmp/accepted.log [--latency 0.1]

Answers ``POST /email`` and ``POST /email/batch`` like Postmark does (``{"To", "SubmittedAt",
"MessageID", "ErrorCode": 0, "Message": "OK"}``; a list for a batch) after ``--latency`` seconds, so
anymail's real Postmark backend (``ANYMAIL["POSTMARK_API_URL"]`` pointed here) runs unchanged. A
request without the ``X-Postmark-Server-Token`` header gets Postmark's 401 (ErrorCode 10).

Every accepted message is one line in the log, written and fsynced *before* the answer is delayed,
as a real ESP has taken a message once its API has read it: a sender killed while it waits for the
answer has handed the message over without knowing it. A line::

    <monotonic seconds> <our message id (the Metadata anymail sends)> <Message-ID header> <our MessageID> <To>

(``time.monotonic`` is the machine's clock since boot, shared by every process, and untouched by the
benchmark's time travel.) Duplicates are lines with the same message id.

Faults: ``POST /_control/fail`` with ``{"status": 429 or 503, "seconds": 5}`` makes every send
answer that status (Postmark's JSON error body, nothing logged) for that long; ``GET /_stats``
returns ``{"accepted": n, "refused": n, "in_flight": n, "max_in_flight": n, "answered": n,
"answer_seconds": s, "connections": n}`` (answer_seconds: the sum over accepted calls of the time from
reading the call's body to writing its answer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_BODIES = {
    429: {"ErrorCode": 429, "Message": "Rate limit exceeded. Please retry later."},
    503: {"ErrorCode": 503, "Message": "Service temporarily unavailable."},
}


class FakePostmark(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, *, log_path: str, latency: float) -> None:
        super().__init__(address, Handler)
        self.latency = latency
        # O_APPEND: each line is one write(2), so lines from concurrent threads never interleave.
        self.log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.lock = threading.Lock()
        self.fail_status, self.fail_until = 0, 0.0
        self.accepted = self.refused = self.in_flight = self.max_in_flight = 0
        self.answered, self.answer_seconds = 0, 0.0  # accepted calls: from their body read to the reply
        self.connections = 0  # TCP connections accepted (a keep-alive client reuses one for many calls)

    def fault(self) -> int:
        with self.lock:
            return self.fail_status if time.monotonic() < self.fail_until else 0

    def count(self, name: str, delta: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + delta)
            self.max_in_flight = max(self.max_in_flight, self.in_flight)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: anymail's requests session reuses its connection
    # An answer's headers and body are two writes: with Nagle's algorithm on, the body waits for the
    # client's (delayed, up to 40 ms) ACK of the headers — 12 % of calls took 125+ ms for that alone.
    # Real API front ends (nginx's tcp_nodelay, on by default) send at once.
    disable_nagle_algorithm = True
    server: FakePostmark

    def setup(self):
        super().setup()
        self.server.count("connections")

    def log_message(self, format, *args):
        pass  # one line per request on stderr would cost more than the request

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stats":
            s = self.server
            with s.lock:
                stats = {
                    "accepted": s.accepted,
                    "refused": s.refused,
                    "in_flight": s.in_flight,
                    "max_in_flight": s.max_in_flight,
                    "answered": s.answered,
                    "connections": s.connections,
                    "answer_seconds": s.answer_seconds,
                }
            self._reply(200, stats)
        else:
            self._reply(404, {"ErrorCode": 404, "Message": "Not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        started = time.monotonic()
        if self.path == "/_control/fail":
            order = json.loads(body or b"{}")
            with self.server.lock:
                self.server.fail_status = int(order.get("status", 503))
                self.server.fail_until = time.monotonic() + float(order.get("seconds", 5))
            self._reply(200, {"ok": True})
            return
        if self.path.rstrip("/") not in ("/email", "/email/batch"):
            self._reply(404, {"ErrorCode": 404, "Message": "Not found"})
            return
        if not self.headers.get("X-Postmark-Server-Token"):
            self._reply(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied"})
            return
        status = self.server.fault()
        if status:
            self.server.count("refused")
            time.sleep(self.server.latency)
            self._reply(status, FAULT_BODIES.get(status, {"ErrorCode": status, "Message": "Error"}))
            return
        try:
            payload = json.loads(body)
        except ValueError:
            self._reply(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."})
            return
        batch = isinstance(payload, list)
        answers = [self._accept(message) for message in (payload if batch else [payload])]
        self.server.count("in_flight")
        try:
            time.sleep(self.server.latency)
        finally:
            self.server.count("in_flight", -1)
        self._reply(200, answers if batch else answers[0])
        with self.server.lock:
            self.server.answered += 1
            self.server.answer_seconds += time.monotonic() - started

    def _accept(self, message: dict) -> dict:
        headers = {h.get("Name", "").lower(): h.get("Value", "") for h in message.get("Headers") or []}
        ours = str(uuid.uuid4())
        line = "{:.6f} {} {} {} {}\n".format(
            time.monotonic(),
            str((message.get("Metadata") or {}).get("aicmo_message_id") or "-"),
            headers.get("message-id", "-") or "-",
            ours,
            (message.get("To") or "-").replace(" ", "_"),
        )
        os.write(self.server.log_fd, line.encode())
        os.fsync(self.server.log_fd)
        self.server.count("accepted")
        submitted = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return {
            "To": message.get("To", ""),
            "SubmittedAt": submitted,
            "MessageID": ours,
            "ErrorCode": 0,
            "Message": "OK",
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="file of accepted messages (appended, fsynced)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    args = parser.parse_args()
    server = FakePostmark(("127.0.0.1", args.port), log_path=args.log, latency=args.latency)
    print(f"fake Postmark on http://127.0.0.1:{args.port}/ (latency {args.latency} s)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
