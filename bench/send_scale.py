"""Send-engine scale benchmark: real Celery workers, Redis, PostgreSQL and anymail's
Postmark backend against a loopback fake ESP that answers after 100 ms.

    scripts/run-bench.sh bench/send_scale.py                                 # 200 x 50, the target scale
    scripts/run-bench.sh bench/send_scale.py --campaigns 20 --messages 20    # a quick run

What it starts (and stops again, also on Ctrl-C or an error): a ``redis-server`` on a free port, the
fake ESP (``bench/fake_esp.py``: Postmark's ``/email`` API, one log line per accepted
message, 429/503 on request), and ``celery -A aicmo_site worker -Q celery,cycles --pool threads``
processes (the Procfile's ``cycles`` worker: ``--cycles-per-worker`` campaign cycles at once sharing
the process's ``OUTREACH_SEND_CONCURRENCY`` send threads; one process each, like one machine each).
PostgreSQL is the throwaway server of ``scripts/run-bench.sh`` (``DATABASE_URL``). Every process
runs ``bench.send_scale_settings``: the project's settings with ``EMAIL_BACKEND =
anymail.backends.postmark.EmailBackend`` and ``ANYMAIL["POSTMARK_API_URL"]`` pointed at the fake ESP,
and, outside weekday office hours (UTC), one shared clock moved to the next weekday 10:00 UTC (leads
must be inside their send window).

Phases, each on campaigns of its own (C campaigns x M due messages, built like
``bench/outreach_send.py``: the first through the real services, the rest copied with INSERT … SELECT):

1. **1 worker**, then 2. **W workers** (``--workers``, default 4): the bench plays beat: it runs
   ``outreach.tasks.dispatch_campaign_cycles`` (which enqueues one ``run_campaign_cycle`` per due
   campaign on the ``cycles`` queue) and again whenever that queue has drained while messages are
   still due. messages/s = messages the fake ESP accepted ÷ seconds from the first dispatch to the
   last acceptance (``--max-phase-seconds`` caps a phase; the rate is then over the cap, and the
   phase's unsent messages go out with later phases' dispatches, so use it for rates only). Also
   printed: CPU per message of the workers, PostgreSQL and the fake ESP (/proc), and the mean cycle
   time against the provider calls alone (``OUTREACH_SEND_CONCURRENCY`` at a time).
3. **kill -9**: K campaigns (``--kill-campaigns`` x ``--messages``), two workers, the ESP answering
   503 for 1 s before the kill and 429 for 1 s after it; a worker running a cycle is killed with
   SIGKILL once a third of the messages went out, and one is started again; the bench dispatches
   every 2 s (each dispatch runs the recovery sweep first) until every message is settled.
   Counts, from the ESP's log: messages never sent (target 0) and duplicates.
4. **sweep**: 2,000 more active campaigns (``--sweep-campaigns``; campaign rows copied with SQL, each
   with a just-released cycle lease, i.e. a cycle that just ran) and nothing due: the time of one
   dispatch (target: well under the 5-minute beat period); then the same with every campaign due (its
   idle period over) — 2,000+ leases reserved and tasks enqueued — and, with ``--idle-cycles``, the
   time W workers take to run those no-op cycles.

Shortened for the bench (production values in brackets): the kill phase's cycle lease 20 s (120 s),
a stale ``sending`` claim after 10 s (1,800 s), an ``unknown`` one settled after 20 s (3,600 s), retries
after 1 to 10 s (60 s to 6 h). Not a test: it asserts nothing, it prints targets and whether they are met.
Logs (workers, ESP, Redis, the ESP's accepted-message log) stay in the folder it prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.send_scale_harness import (  # noqa: E402  (run as a script: the project root on the path first)
    AcceptLog,
    CpuMeter,
    Processes,
    Workers,
    cycle_times,
    esp_control,
    postmaster_pid,
    start_fake_esp,
    start_redis,
)

ESP_LATENCY = 0.1
KILL_LEASE_SECONDS = 20
BENCH_ENV = {
    "OUTREACH_SENDING_STALE_SECONDS": "10",
    "OUTREACH_UNKNOWN_RESOLVE_SECONDS": "20",
    "OUTREACH_RETRY_BASE_SECONDS": "1",
    "OUTREACH_RETRY_CAP_SECONDS": "10",
}


# --- data --------------------------------------------------------------------------------------


def clock_offset_seconds(now: dt.datetime) -> float:
    """0 when now is a weekday between 09:15 and 14:30 UTC (leads are in UTC; a run fits before
    17:00), else the seconds to the next weekday 10:00 UTC."""
    hour = now.hour + now.minute / 60
    if now.weekday() < 5 and 9.25 <= hour < 14.5:
        return 0.0
    target = now.replace(hour=10, minute=0, second=0, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    while target.weekday() >= 5:
        target += dt.timedelta(days=1)
    return (target - now).total_seconds()


def seed_group(label: str, first: int, campaigns: int, messages: int) -> tuple[list[int], set[str]]:
    """``campaigns`` live campaigns with ``messages`` due messages each; (campaign ids, message ids)."""
    from django.db import connection

    from bench.support import clone_outreach_rows, make_live_campaign
    from outreach.models import Message
    from outreach.services.sending import enroll_leads, schedule_due_messages

    started = time.perf_counter()
    source = None
    ids = []
    for n in range(first, first + campaigns):
        campaign, sequence = make_live_campaign(n, leads=0 if source else messages, cap=messages + 10)
        if source is None:
            enroll_leads(campaign=campaign, sequence=sequence)
            schedule_due_messages(campaign=campaign)
            source = (campaign, sequence)
        else:
            clone_outreach_rows(
                source=source[0],
                source_sequence=source[1],
                target=campaign,
                target_sequence=sequence,
                tag=f"c{n}.",
            )
        ids.append(campaign.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    message_ids = {str(pk) for pk in Message.objects.filter(campaign_id__in=ids).values_list("pk", flat=True)}
    print(
        f"  {label}: {campaigns} campaigns, {len(message_ids)} due messages, set up in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return ids, message_ids


def unsettled(campaign_ids: list[int]) -> int:
    """Messages of these campaigns not yet in a final state."""
    from outreach.models import Message, MessageState

    final = [MessageState.SENT, MessageState.DEAD, MessageState.CANCELLED]
    return Message.objects.filter(campaign_id__in=campaign_ids).exclude(state__in=final).count()


def states(campaign_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count

    from outreach.models import Message

    rows = Message.objects.filter(campaign_id__in=campaign_ids).values_list("state").annotate(n=Count("id"))
    return dict(sorted(rows))


def dispatch() -> int:
    from outreach.tasks import dispatch_campaign_cycles

    return dispatch_campaign_cycles()["enqueued"]


# --- phases ------------------------------------------------------------------------------------


def rate_phase(
    label,
    *,
    workers,
    count,
    env,
    campaign_ids,
    message_ids,
    log,
    redis_client,
    max_seconds,
    meter,
    latency,
    esp_url,
):
    """Messages/s of ``count`` worker processes over one group of campaigns."""
    from django.conf import settings

    names = workers.start(count, env=env)
    before = meter.snapshot(names)
    esp_before = esp_control(esp_url, "/_stats")
    t0 = time.monotonic()
    enqueued = dispatch()
    capped = False
    last_count = t0
    while True:
        time.sleep(0.5)
        # The database is asked only once the ESP has all the messages (or every 5 s, for a phase
        # where some end otherwise): the count is a scan of the phase's messages, PostgreSQL CPU the
        # figures would charge to the sends.
        all_accepted = len({key for _, key in log.of(message_ids)}) >= len(message_ids)
        if all_accepted or time.monotonic() - last_count > 5:
            last_count = time.monotonic()
            if unsettled(campaign_ids) == 0:
                break
        if time.monotonic() - t0 > max_seconds:
            capped = True
            break
        if redis_client.llen("cycles") == 0 and time.monotonic() - t0 > 2:
            enqueued += dispatch()  # beat's next tick, once the queue has drained
    t_stop = time.monotonic()
    accepted = log.of(message_ids)
    after = meter.snapshot(names)
    esp_after = esp_control(esp_url, "/_stats")
    cycles = [c for name in names for c in cycle_times(workers.procs.log_text(name))]
    workers.procs.stop(names)
    redis_client.delete("cycles")  # a capped phase leaves queued cycles of its own campaigns
    in_window = [t for t, _ in accepted if t <= t_stop] if capped else [t for t, _ in accepted]
    end = t_stop if capped else max(in_window, default=t0)
    seconds = max(end - t0, 1e-9)
    rate = len(in_window) / seconds
    keys = Counter(key for _, key in accepted)
    print(
        f"  {label}: {len(in_window)} of {len(message_ids)} messages in {seconds:.1f} s = {rate:.1f} msg/s"
        f"{' (capped at --max-phase-seconds)' if capped else ''}; {enqueued} cycle tasks enqueued; "
        f"duplicates {sum(n - 1 for n in keys.values())}; states {states(campaign_ids)}",
        flush=True,
    )
    print(f"    {meter.report(before, after, len(in_window))}", flush=True)
    answered = esp_after["answered"] - esp_before["answered"]
    if answered:
        esp_ms = 1000 * (esp_after["answer_seconds"] - esp_before["answer_seconds"]) / answered
        print(f"    the fake ESP's own time per call (body read to answer written): {esp_ms:.1f} ms",
              flush=True)  # fmt: skip
    busy = [c for c in cycles if c[1]]
    if busy:
        limit = int(getattr(settings, "OUTREACH_SEND_CONCURRENCY", 1) or 1)
        mean_seconds = statistics.mean(s for s, _ in busy)
        mean_sent = statistics.mean(n for _, n in busy)
        floor = -(-mean_sent // limit) * latency
        print(
            f"    {len(busy)} cycles that sent: mean {mean_seconds:.2f} s for {mean_sent:.0f} messages "
            f"(the provider calls alone, {limit} at a time: {floor:.2f} s)",
            flush=True,
        )
    return {"rate": rate, "sent": len(in_window), "seconds": seconds, "capped": capped}


def kill_phase(*, workers, env, campaign_ids, message_ids, log, esp_url, redis_client, timeout):
    """kill -9 of a worker mid-send; returns (never sent, duplicates, details)."""
    from django.conf import settings
    from django.db.models import Sum

    from campaigns.models import SpendEntry, SpendKind
    from outreach.models import Enrollment, EnrollmentState, Message, MessageState

    kill_env = {**env, "AICMO_CYCLE_LEASE_SECONDS": str(KILL_LEASE_SECONDS)}
    settings.AICMO_CYCLE_LEASE_SECONDS = KILL_LEASE_SECONDS  # the dispatcher reserves for as long
    names = workers.start(2, env=kill_env)
    t0 = time.monotonic()
    dispatch()
    # a 503 burst once a sixth has gone out (those sends retry), the kill once a third has: of a
    # worker that is running a cycle, so it dies between a claim and its record
    faulted, victim = False, None
    while victim is None:
        accepted = len(log.of(message_ids))
        if not faulted and accepted >= len(message_ids) // 6:
            esp_control(esp_url, "/_control/fail", {"status": 503, "seconds": 1})
            faulted = True
        busy = [n for n in names if workers.busy(n)]
        if accepted >= len(message_ids) // 3 and busy:
            victim = busy[0]
        elif not busy and redis_client.llen("cycles") == 0:
            dispatch()  # the retries are due later: beat's next tick
        if time.monotonic() - t0 > timeout:
            raise SystemExit("kill phase: the workers sent too little to kill one mid-send")
        time.sleep(0.05)
    in_flight = esp_control(esp_url, "/_stats")["in_flight"]
    workers.procs.kill9(victim)
    killed_at = time.monotonic()
    print(
        f"  kill -9 {victim} in a cycle, after {len(log.of(message_ids))} accepted "
        f"({in_flight} call(s) in flight at the ESP)",
        flush=True,
    )
    time.sleep(1.0)
    left_sending = Message.objects.filter(campaign_id__in=campaign_ids, state=MessageState.SENDING).count()
    names = [n for n in names if n != victim] + workers.start(1, env=kill_env)
    esp_control(esp_url, "/_control/fail", {"status": 429, "seconds": 1})
    settled_at = None
    while time.monotonic() - t0 < timeout:
        dispatch()  # beat: the recovery sweep, then the due cycles (the dead worker's after its lease)
        time.sleep(2.0)
        if unsettled(campaign_ids) == 0:
            settled_at = time.monotonic()
            break
    workers.procs.stop(names)
    settings.AICMO_CYCLE_LEASE_SECONDS = int(env.get("AICMO_CYCLE_LEASE_SECONDS") or 120)
    accepted = log.of(message_ids)
    keys = Counter(key for _, key in accepted)
    never_sent = len(message_ids - set(keys))
    duplicates = sum(n - 1 for n in keys.values())
    sent = Message.objects.filter(campaign_id__in=campaign_ids, state=MessageState.SENT)
    resolutions = dict(Counter(sent.values_list("send_resolution", flat=True)))
    frozen = Enrollment.objects.filter(campaign_id__in=campaign_ids, state=EnrollmentState.ACTIVE).count()
    spend = SpendEntry.objects.filter(campaign_id__in=campaign_ids, kind=SpendKind.ESP).aggregate(
        s=Sum("amount")
    )
    booked = (spend["s"] or 0) / settings.AICMO_COST_PER_EMAIL if settings.AICMO_COST_PER_EMAIL else 0
    print(
        f"  after the kill: {left_sending} message(s) left `sending`; settled "
        f"{'in %.0f s' % (settled_at - killed_at) if settled_at else 'NOT within the timeout'}; "
        f"states {states(campaign_ids)}; sent by resolution {resolutions}; "
        f"enrollments still active {frozen}; sends booked to the budget {booked:.0f} of {sent.count()}",
        flush=True,
    )
    return never_sent, duplicates, settled_at is not None


def sweep_phase(*, count, workers, worker_count, env, redis_client, idle_cycles, source_campaign_id):
    """Dispatch over ``count`` more active campaigns: with nothing due, then all due."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignState
    from outreach.models import CycleLease
    from outreach.services.leases import acquire_lease

    started = time.perf_counter()
    table = Campaign._meta.db_table
    columns = [f.column for f in Campaign._meta.concrete_fields if f.column != "id"]
    select = ["name || ' sweep ' || g" if c == "name" else c for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "
            f"FROM {table}, generate_series(1, %s) g WHERE id = %s RETURNING id",
            [count, source_campaign_id],
        )
        new_ids = [row[0] for row in cursor.fetchall()]
    for pk in new_ids:  # each just had its cycle: a lease taken and released
        acquire_lease(campaign_id=pk).release()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    active = Campaign.objects.filter(state=CampaignState.ACTIVE).count()
    print(
        f"  {count} campaigns added in {time.perf_counter() - started:.1f} s; {active} active in all",
        flush=True,
    )

    idle_timings, enqueued = [], 0
    for _ in range(3):
        t = time.perf_counter()
        enqueued += dispatch()
        idle_timings.append(time.perf_counter() - t)
    nothing_due = statistics.median(idle_timings)
    print(
        f"  dispatch, nothing due: {nothing_due * 1000:.0f} ms (median of 3; {enqueued} enqueued)",
        flush=True,
    )

    settings.AICMO_CYCLE_IDLE_SECONDS = 0  # every campaign's idle period is over: all are due
    t = time.perf_counter()
    all_enqueued = dispatch()
    all_due = time.perf_counter() - t
    print(
        f"  dispatch, all due: {all_due:.2f} s for {all_enqueued} leases reserved and cycle tasks enqueued "
        f"(Redis: {redis_client.info('memory')['used_memory'] / 1e6:.1f} MB used, "
        f"{redis_client.llen('cycles')} queued)",
        flush=True,
    )
    idle_rate = None
    if idle_cycles and all_enqueued:
        names = workers.start(worker_count, env=env)
        t = time.monotonic()
        while (
            redis_client.llen("cycles")
            or CycleLease.objects.filter(expires_at__gt=timezone.now(), holder__gt="")
            .exclude(holder__startswith="queued:")
            .exists()
        ):
            time.sleep(0.5)
            if time.monotonic() - t > 600:
                break
        seconds = time.monotonic() - t
        workers.procs.stop(names)
        idle_rate = all_enqueued / seconds
        print(
            f"  {all_enqueued} no-op cycles on {worker_count} workers: {seconds:.1f} s = "
            f"{idle_rate:.1f} cycles/s ({1000 / idle_rate * worker_count:.0f} ms per cycle per worker)",
            flush=True,
        )
    redis_client.delete("cycles")
    return nothing_due, all_due, idle_rate


# --- main --------------------------------------------------------------------------------------


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=200, help="campaigns per send phase")
    parser.add_argument("--messages", type=int, default=50, help="due messages per campaign")
    parser.add_argument("--workers", type=int, default=4, help="worker processes of the second phase")
    parser.add_argument("--kill-campaigns", type=int, default=4)
    parser.add_argument("--sweep-campaigns", type=int, default=2000)
    parser.add_argument("--max-phase-seconds", type=float, default=300)
    parser.add_argument("--idle-cycles", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--latency", type=float, default=ESP_LATENCY, help="the fake ESP's answer delay")
    parser.add_argument(
        "--send-concurrency",
        type=int,
        help="sets OUTREACH_SEND_CONCURRENCY for every process, where it exists",
    )
    parser.add_argument(
        "--cycles-per-worker",
        type=int,
        help="sets OUTREACH_CYCLES_PER_WORKER: campaign cycles one worker process runs at once (default 4)",
    )
    parser.add_argument("--skip", default="", help="phases to skip, comma-separated: one,many,kill,sweep")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("needs PostgreSQL: run it as scripts/run-bench.sh bench/send_scale.py …")

    folder = Path(tempfile.mkdtemp(prefix="aicmo-send-scale."))
    procs = Processes(folder)
    # SIGTERM (and SIGHUP) end the run like Ctrl-C does: through the finally below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        run(args, skip, procs, folder)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process the bench started", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        procs.stop_all()


def run(args, skip, procs: Processes, folder: Path) -> None:
    started = time.monotonic()
    redis_port = start_redis(procs)
    accept_log = folder / "esp-accepted.log"
    esp_url = start_fake_esp(procs, accept_log, args.latency)
    offset = clock_offset_seconds(dt.datetime.now(dt.UTC))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.send_scale_settings",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
            "BENCH_FAKE_ESP_URL": esp_url,
            "BENCH_CLOCK_OFFSET_SECONDS": str(offset),
            "AICMO_VAR_DIR": os.environ.get("AICMO_VAR_DIR") or str(folder / "var"),
            "PYTHONPATH": str(ROOT),
            **BENCH_ENV,
        }
    )
    if args.send_concurrency:
        os.environ["OUTREACH_SEND_CONCURRENCY"] = str(args.send_concurrency)
    if args.cycles_per_worker:
        os.environ["OUTREACH_CYCLES_PER_WORKER"] = str(args.cycles_per_worker)
    env = dict(os.environ)

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    redis_client = redis.Redis(port=redis_port)
    log = AcceptLog(accept_log)
    workers = Workers(procs)
    meter = CpuMeter(procs, postmaster_pid())
    in_flight_limit = int(getattr(settings, "OUTREACH_SEND_CONCURRENCY", 1) or 1)
    limit_source = (
        "OUTREACH_SEND_CONCURRENCY"
        if hasattr(settings, "OUTREACH_SEND_CONCURRENCY")
        else "no OUTREACH_SEND_CONCURRENCY setting"
    )
    print(
        f"PostgreSQL {connection.pg_version // 10000}, Redis on {redis_port}, fake Postmark at {esp_url} "
        f"({args.latency * 1000:.0f} ms), {os.cpu_count()} cores; clock "
        f"{timezone.now():%a %Y-%m-%d %H:%M} UTC{' (moved)' if offset else ''}; in-flight limit per worker "
        f"{in_flight_limit} ({limit_source}), "
        f"{os.environ.get('OUTREACH_CYCLES_PER_WORKER', '4')} cycles at once",
        flush=True,
    )
    print(f"logs: {folder}", flush=True)
    results: dict = {}
    next_n = 1
    source_campaign = None
    if "one" not in skip:
        print("phase 1: one worker process", flush=True)
        ids, message_ids = seed_group("set-up", next_n, args.campaigns, args.messages)
        next_n += args.campaigns
        source_campaign = ids[0]
        results["one"] = rate_phase(
            "1 worker", workers=workers, count=1, env=env, campaign_ids=ids, message_ids=message_ids,
            log=log, redis_client=redis_client, max_seconds=args.max_phase_seconds, meter=meter,
            latency=args.latency, esp_url=esp_url,
        )  # fmt: skip
    if "many" not in skip:
        print(f"phase 2: {args.workers} worker processes", flush=True)
        ids, message_ids = seed_group("set-up", next_n, args.campaigns, args.messages)
        next_n += args.campaigns
        source_campaign = source_campaign or ids[0]
        results["many"] = rate_phase(
            f"{args.workers} workers", workers=workers, count=args.workers, env=env, campaign_ids=ids,
            message_ids=message_ids, log=log, redis_client=redis_client, max_seconds=args.max_phase_seconds,
            meter=meter, latency=args.latency, esp_url=esp_url,
        )  # fmt: skip
    if "kill" not in skip:
        print(
            "phase 3: kill -9 of a worker mid-send (2 workers; the ESP answers 503, later 429, for 1 s each)",
            flush=True,
        )
        ids, message_ids = seed_group("set-up", next_n, args.kill_campaigns, args.messages)
        next_n += args.kill_campaigns
        source_campaign = source_campaign or ids[0]
        results["kill"] = kill_phase(
            workers=workers, env=env, campaign_ids=ids, message_ids=message_ids, log=log, esp_url=esp_url,
            redis_client=redis_client,
            timeout=max(180.0, 4 * len(message_ids) * args.latency),
        )  # fmt: skip
    if "sweep" not in skip:
        print(f"phase 4: dispatch over {args.sweep_campaigns} more active campaigns", flush=True)
        if source_campaign is None:
            source_campaign = seed_group("set-up", next_n, 1, 1)[0][0]
        results["sweep"] = sweep_phase(
            count=args.sweep_campaigns, workers=workers, worker_count=args.workers, env=env,
            redis_client=redis_client, idle_cycles=args.idle_cycles, source_campaign_id=source_campaign,
        )  # fmt: skip

    all_keys = Counter(key for _, key in log.refresh())
    duplicates = sum(n - 1 for n in all_keys.values())
    print(
        f"\nsummary ({time.monotonic() - started:.0f} s in all; "
        f"ESP answers after {args.latency * 1000:.0f} ms)"
    )

    def line(name, figure, target, met):
        verdict = "n/a" if met is None else ("met" if met else "MISSED")
        print(f"  {name:<44} {figure:<28} target {target:<26} {verdict}")

    one, many = results.get("one"), results.get("many")
    if one:
        line("messages/s, 1 worker process", f"{one['rate']:.1f}", "-", None)
    if many:
        line(
            f"messages/s, {args.workers} worker processes",
            f"{many['rate']:.1f} ({many['rate'] / args.workers:.1f} per process)",
            "-",
            None,
        )
    if one and many:
        ratio = many["rate"] / one["rate"]
        line(f"{args.workers} workers / 1 worker", f"{ratio:.2f}x", ">= 3x", ratio >= 3)
    if one:
        line("one worker process's rate", f"{one['rate']:.1f} msg/s", ">= 100 msg/s", one["rate"] >= 100)
        ceiling = in_flight_limit / args.latency
        efficiency = one["rate"] / ceiling
        line(
            "in-flight efficiency, 1 worker",
            f"{efficiency:.2f} ({one['rate']:.1f} / {ceiling:.0f})",
            ">= 0.8",
            efficiency >= 0.8,
        )
    if "sweep" in results:
        nothing_due, all_due, idle_rate = results["sweep"]
        line(
            f"sweep of {args.sweep_campaigns}+ campaigns, nothing due",
            f"{nothing_due:.3f} s",
            "well under 300 s",
            nothing_due < 30,
        )
        line("  the same, every campaign due (enqueue all)", f"{all_due:.2f} s", "-", None)
        if idle_rate:
            line(f"  no-op cycles, {args.workers} workers", f"{idle_rate:.1f} cycles/s", "-", None)
    line("duplicates (fake ESP log, whole run)", str(duplicates), "0", duplicates == 0)
    if "kill" in results:
        never_sent, kill_duplicates, settled = results["kill"]
        line("kill -9: messages never sent", str(never_sent), "0", never_sent == 0 and settled)
        line("kill -9: duplicates", str(kill_duplicates), "0", kill_duplicates == 0)


if __name__ == "__main__":
    main()
