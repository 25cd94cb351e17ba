"""A loopback stand-in for Postmark's email API, for ``bench/send_scale.py`` and the tests.

    python bench/fake_esp.py --port 8025 --log /tmp/accepted.log [--latency 0.1]

Answers ``POST /email`` and ``POST /email/batch`` like Postmark does (``{"To", "SubmittedAt",
"MessageID", "ErrorCode": 0, "Message": "OK"}``; a list for a batch) after ``--latency`` seconds, so
anymail's real Postmark backend (``ANYMAIL["POSTMARK_API_URL"]`` pointed here) runs unchanged. A
request without the ``X-Postmark-Server-Token`` header gets Postmark's 401 (ErrorCode 10).

Every accepted message is one line in the log, written (one ``write(2)``, at once readable by the
benchmark and kept if a sender is killed) *before* the answer is delayed, as a real ESP has taken a
message once its API has read it: a sender killed while it waits for the answer has handed the
message over without knowing it. A line::

    <monotonic seconds> <our message id (the Metadata anymail sends)> <Message-ID header> <our MessageID> <To>

(``time.monotonic`` is the machine's clock since boot, shared by every process, and untouched by the
benchmark's time travel.) Duplicates are lines with the same message id.

Faults: ``POST /_control/fail`` with ``{"status": 429 or 503, "seconds": 5}`` makes every send
answer that status (Postmark's JSON error body, nothing logged) for that long; ``GET /_stats``
returns ``{"accepted": n, "refused": n, "in_flight": n, "max_in_flight": n, "answered": n,
"answer_seconds": s, "connections": n}`` (answer_seconds: the sum over accepted calls of the time from
reading the call's body to writing its answer).

A real ESP runs on machines of its own, and its answer time does not depend on how busy ours are;
the stand-in shares the benchmark's cores, so it takes as little of them as it can: one asyncio loop
serves every connection (HTTP/1.1 keep-alive, requests parsed by hand; 0.14 ms of CPU a call,
where a thread per connection with ``http.server`` took 0.52 and an fsync per line another 0.11),
and it asks for a higher CPU priority (nice -5, where allowed) so that four busy workers do not
delay its answers (docs/PERFORMANCE.md). In a test, ``FakePostmark(...).start()`` serves from a
thread of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import threading
import time
import uuid

FAULT_BODIES = {
    429: {"ErrorCode": 429, "Message": "Rate limit exceeded. Please retry later."},
    503: {"ErrorCode": 503, "Message": "Service temporarily unavailable."},
}
REASONS = {
    200: "OK",
    401: "Unauthorized",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
}
MAX_BODY = 10 * 1024 * 1024  # Postmark's own limit on a request


class FakePostmark:
    """The fake API. ``payloads``: a list to keep every accepted message's JSON in (tests), or None."""

    def __init__(self, *, log_path: str, latency: float, port: int = 0, keep_payloads: bool = False) -> None:
        self.latency, self.port = latency, port
        # O_APPEND: each line is one write(2).
        self.log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.payloads: list[dict] | None = [] if keep_payloads else None
        self.fail_status, self.fail_until = 0, 0.0
        self.accepted = self.refused = self.in_flight = self.max_in_flight = 0
        self.answered, self.answer_seconds = 0, 0.0  # accepted calls: from their body read to the reply
        self.connections = 0  # TCP connections accepted (a keep-alive client reuses one for many calls)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # --- serving ------------------------------------------------------------------------------

    async def serve(self, ready: threading.Event | None = None) -> None:
        self._loop, self._stopped = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", self.port, backlog=256)
        self.port = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with server:
            await self._stopped.wait()

    def start(self) -> FakePostmark:
        """Serve from a daemon thread (tests); returns once the port is open."""
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve(ready)), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake ESP did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(5)
        os.close(self.log_fd)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, header_block = head.decode("latin-1").partition("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_block.split("\r\n"):
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY:
                    await self._reply(writer, 422, {"ErrorCode": 300, "Message": "Request too large."})
                    break
                body = await reader.readexactly(length) if length else b""
                status, answer = await self._handle(method, path, headers, body)
                await self._reply(writer, status, answer)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _reply(self, writer: asyncio.StreamWriter, status: int, body) -> None:
        data = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode() + data)  # one write: no wait on the client's delayed ACK
        await writer.drain()

    async def _handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, object]:
        if method == "GET":
            if path == "/_stats":
                return 200, {
                    "accepted": self.accepted,
                    "refused": self.refused,
                    "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight,
                    "answered": self.answered,
                    "connections": self.connections,
                    "answer_seconds": self.answer_seconds,
                }
            return 404, {"ErrorCode": 404, "Message": "Not found"}
        started = time.monotonic()
        if path == "/_control/fail":
            order = json.loads(body or b"{}")
            self.fail_status = int(order.get("status", 503))
            self.fail_until = time.monotonic() + float(order.get("seconds", 5))
            return 200, {"ok": True}
        if path.rstrip("/") not in ("/email", "/email/batch"):
            return 404, {"ErrorCode": 404, "Message": "Not found"}
        if not headers.get("x-postmark-server-token"):
            return 401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied"}
        if self.fail_status and time.monotonic() < self.fail_until:
            self.refused += 1
            status = self.fail_status
            await asyncio.sleep(self.latency)
            return status, FAULT_BODIES.get(status, {"ErrorCode": status, "Message": "Error"})
        try:
            payload = json.loads(body)
        except ValueError:
            return 422, {"ErrorCode": 402, "Message": "Received invalid JSON input."}
        batch = isinstance(payload, list)
        answers = [self._accept(message) for message in (payload if batch else [payload])]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        self.answered += 1
        self.answer_seconds += time.monotonic() - started
        return 200, answers if batch else answers[0]

    def _accept(self, message: dict) -> dict:
        if self.payloads is not None:
            self.payloads.append(message)
        headers = {h.get("Name", "").lower(): h.get("Value", "") for h in message.get("Headers") or []}
        ours = str(uuid.uuid4())
        line = "{:.6f} {} {} {} {}\n".format(
            time.monotonic(),
            str((message.get("Metadata") or {}).get("aicmo_message_id") or "-"),
            headers.get("message-id", "-") or "-",
            ours,
            (message.get("To") or "-").replace(" ", "_"),
        )
        os.write(self.log_fd, line.encode())
        self.accepted += 1
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
    parser.add_argument("--log", required=True, help="file of accepted messages (appended)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    args = parser.parse_args()
    server = FakePostmark(log_path=args.log, latency=args.latency, port=args.port)
    with contextlib.suppress(OSError):  # raising a priority needs CAP_SYS_NICE: without it, as is
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    print(f"fake Postmark on http://127.0.0.1:{args.port}/ (latency {args.latency} s)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve())


if __name__ == "__main__":
    main()
