"""Outbound webhooks benchmark: dispatcher throughput and the outbox's cost on sending.

A loopback receiver runs in its own process (so it does not share the dispatcher's GIL): HTTP/1.1
keep-alive, answers 200, counts POSTs, events and distinct webhook-ids, and verifies the Standard
Webhooks signature of every ``--verify-every``-th POST with the ``standardwebhooks`` library.
Prints in one run:

- unbatched: N ``message.sent`` events, one POST each, through the real dispatcher (fan-out,
  claim, sign, POST from AICMO_WEBHOOKS_CONCURRENCY threads, record) — events/s (target ≥ 500/s);
- batched: the same to an endpoint with batching on (100 events per POST) — events/s (target
  ≥ 5,000/s) and the ratio batched / unbatched;
- send path: M live sends (anymail-free serializing backend) for a client without any endpoint,
  then for one whose endpoint subscribes to ``message.sent`` (one outbox INSERT per slice) — the
  ratio of the two times (1.00 = writing events costs nothing).

Not a test: no assertions on time; it checks every event reached the receiver once.

    AICMO_VAR_DIR=$(mktemp -d) .venv/bin/python bench/webhooks_dispatch.py [--events N] [--sends M]
    scripts/run-bench.sh bench/webhooks_dispatch.py        # PostgreSQL
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import multiprocessing
import os
import random
import socket
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo_site.settings")


def _receiver(port: int, secret_file: str, verify_every: int, ready) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    stats = {"posts": 0, "events": 0, "ids": set(), "event_ids": set(), "verified": 0, "bad": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            # headers and body leave in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every keep-alive answer (a receiver artefact)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            view = {k: v for k, v in stats.items() if not isinstance(v, set)}
            view |= {"ids": len(stats["ids"]), "event_ids": len(stats["event_ids"])}
            self._answer(json.dumps(view).encode())

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stats["posts"] += 1
            stats["ids"].add(self.headers["webhook-id"])
            if verify_every and stats["posts"] % verify_every == 0:
                try:
                    Webhook(Path(secret_file).read_text().strip()).verify(body, dict(self.headers))
                    stats["verified"] += 1
                except WebhookVerificationError:
                    stats["bad"] += 1
            payload = json.loads(body)
            events = payload["data"]["events"] if payload["type"] == "batch" else [payload]
            stats["events"] += len(events)
            stats["event_ids"].update(e["id"] for e in events)
            self._answer(b"{}")

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def _stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as answer:
        return json.loads(answer.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--sends", type=int, default=1000, help="live sends per run of the send-path part")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--verify-every", type=int, default=20, help="verify every k-th signature (0: none)")
    args = parser.parse_args()

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True
    settings.AICMO_WEBHOOKS_REQUIRE_HTTPS = False
    settings.AICMO_WEBHOOKS_CONCURRENCY = args.concurrency
    settings.AICMO_COST_PER_EMAIL = 0
    call_command("migrate", verbosity=0)

    import time_machine

    from bench.support import SerializingBackend, make_live_campaign
    from campaigns.events import emit_events
    from campaigns.services.clients import create_client
    from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
    from webhooks.services import create_endpoint
    from webhooks.services.dispatch import dispatch

    port = _free_port()
    secret_file = Path(settings.VAR_DIR) / "bench-webhook-secret"
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(
        target=_receiver, args=(port, str(secret_file), args.verify_every, ready), daemon=True
    )
    receiver.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port}/hook"
    print(f"database: {connection.vendor}; {args.events} events; dispatcher concurrency {args.concurrency}")

    def throughput(batched: bool) -> float:
        client = create_client(name=f"Webhook bench {random.randint(0, 10**9)}")
        endpoint, secret = create_endpoint(
            client=client, url=url, event_types=["message.sent"], batch_enabled=batched
        )
        secret_file.write_text(secret)
        items = [
            {"message_id": i, "lead": {"id": i, "email": f"lead{i}@bench.example"}, "step_id": 1}
            for i in range(args.events)
        ]
        with transaction.atomic():
            emit_events("message.sent", client=client, items=items)
        before = _stats(port)
        t0 = time.perf_counter()
        result = dispatch(budget_seconds=600)
        elapsed = time.perf_counter() - t0
        after = _stats(port)
        got = after["event_ids"] - before["event_ids"]
        if got != args.events or result.delivered != endpoint.deliveries.count():
            raise SystemExit(f"expected {args.events} distinct events at the receiver, got {got}: {result}")
        label = "batched  " if batched else "unbatched"
        posts = after["posts"] - before["posts"]
        print(
            f"{label}: {args.events:>6} events in {posts:>5} POSTs, {elapsed:6.2f} s = "
            f"{args.events / elapsed:8.0f} events/s"
        )
        return args.events / elapsed

    unbatched = throughput(batched=False)
    batched = throughput(batched=True)
    stats = _stats(port)
    print(
        f"ratio batched/unbatched: {batched / unbatched:.1f}; targets ≥ 500/s unbatched, ≥ 5,000/s batched; "
        f"signatures verified {stats['verified']}, bad {stats['bad']}"
    )

    # the send path: the same sends without and with a subscribed endpoint
    time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True).start()

    def send_time(subscribed: bool) -> float:
        campaign, sequence = make_live_campaign(
            random.randint(20_000, 10**9), leads=args.sends, cap=args.sends + 10
        )
        if subscribed:
            create_endpoint(client=campaign.client, url=url, event_types=["message.sent"])
        enroll_leads(campaign=campaign, sequence=sequence)
        schedule_due_messages(campaign=campaign)
        t0 = time.perf_counter()
        stats = send_due_messages(
            campaign_id=campaign.pk, dry_run=False, chunk_size=250, connection=SerializingBackend()
        )
        elapsed = time.perf_counter() - t0
        if stats.sent != args.sends:
            raise SystemExit(f"sent {stats.sent} of {args.sends}")
        return elapsed

    plain = send_time(subscribed=False)
    with_events = send_time(subscribed=True)
    print(f"send path: {args.sends} sends {plain:.2f} s without an endpoint, {with_events:.2f} s with one")
    print(f"ratio with/without outbox rows: {with_events / plain:.2f}")
    receiver.terminate()


if __name__ == "__main__":
    main()
