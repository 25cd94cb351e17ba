"""What ``bench/send_scale.py`` runs besides the send engine, and how it meters it: the processes it
starts and stops (``redis-server``, the fake ESP, Celery workers), the fake ESP's log of accepted
messages, and the CPU each process uses (Linux ``/proc``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The Procfile's cycles worker (threads pool, --concurrency from OUTREACH_CYCLES_PER_WORKER), also on
# the celery queue; one process each, like one machine each.
WORKER_ARGS = (
    "-A aicmo_site worker -Q celery,cycles --pool threads --loglevel INFO --without-mingle --without-gossip"
)


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the bench itself dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Processes:
    """Every process the bench starts, stopped again by ``stop_all`` (called from ``finally``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, command: list[str], *, env: dict | None = None) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the bench decides when they stop, not the terminal's Ctrl-C
                preexec_fn=_die_with_parent,
            )
        self.running[name], self.logs[name] = process, log
        return process

    def log_text(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def kill9(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self, names, *, timeout: float = 60) -> None:
        """SIGTERM (a Celery worker finishes its task: warm shutdown), SIGKILL after ``timeout``."""
        names = [n for n in names if n in self.running]
        for name in names:
            with contextlib.suppress(ProcessLookupError):
                self.running[name].terminate()
        deadline = time.monotonic() + timeout
        for name in names:
            process = self.running.pop(name)
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        self.stop(list(self.running), timeout=20)


def start_redis(procs: Processes) -> int:
    port = _free_port()
    folder = procs.folder / "redis"
    folder.mkdir()
    procs.start(
        "redis",
        [
            "redis-server",
            "--save",
            "",
            *f"--port {port} --bind 127.0.0.1 --appendonly no --dir {folder}".split(),
        ],
    )
    _wait_for(lambda: _port_open(port), 20, "redis-server", procs, "redis")
    return port


def start_fake_esp(procs: Processes, log: Path, latency: float) -> str:
    port = _free_port()
    procs.start(
        "fake-esp",
        [
            sys.executable,
            str(ROOT / "bench" / "fake_esp.py"),
            *f"--port {port} --log {log} --latency {latency}".split(),
        ],
    )
    _wait_for(lambda: _port_open(port), 20, "the fake ESP", procs, "fake-esp")
    return f"http://127.0.0.1:{port}/"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(ready, seconds: float, what: str, procs: Processes, name: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        process = procs.running.get(name)
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what} exited:\n{procs.log_text(name)[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {seconds} s:\n{procs.log_text(name)[-3000:]}")
        time.sleep(0.1)


class Workers:
    """Celery worker processes: ``celery -A aicmo_site worker -Q celery,cycles``, one process each."""

    def __init__(self, procs: Processes) -> None:
        self.procs = procs
        self.started = 0

    def start(self, count: int, *, env: dict) -> list[str]:
        celery = str(Path(sys.executable).parent / "celery")
        names = []
        for _ in range(count):
            self.started += 1
            name = f"worker{self.started}"
            self.procs.start(
                name,
                [
                    celery,
                    *WORKER_ARGS.split(),
                    "--concurrency",
                    os.environ.get("OUTREACH_CYCLES_PER_WORKER", "4"),
                    "-n",
                    f"{name}@%h",
                ],
                env=env,
            )
            names.append(name)
        for name in names:
            _wait_for(lambda n=name: " ready." in self.procs.log_text(n), 90, name, self.procs, name)
        return names

    def busy(self, name: str) -> bool:
        """Running a task now: its log has more tasks received than finished."""
        text = self.procs.log_text(name)
        return text.count("] received") > text.count("] succeeded in") + text.count("] raised")


# --- the fake ESP's log ------------------------------------------------------------------------


class AcceptLog:
    """The fake ESP's accepted messages: (monotonic time, our message id), read as the file grows."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0
        self.entries: list[tuple[float, str]] = []

    def refresh(self) -> list[tuple[float, str]]:
        if self.path.exists():
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
            end = data.rfind(b"\n") + 1
            self.offset += end
            for line in data[:end].decode().splitlines():
                parts = line.split(" ")
                self.entries.append((float(parts[0]), parts[1]))
        return self.entries

    def of(self, ids: set[str]) -> list[tuple[float, str]]:
        return [e for e in self.refresh() if e[1] in ids]


def esp_control(url: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url + path.lstrip("/"), data=data), timeout=5) as r:
        return json.loads(r.read())


# --- CPU accounting (Linux /proc) ------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of a process (with ``children``: plus those of its children it has reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its reaped backends, its live ones."""
    total = _proc_cpu(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    total += _proc_cpu(int(entry.name))
    return total


def postmaster_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every core."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuMeter:
    """CPU the workers, PostgreSQL and the fake ESP use between ``start`` and ``stop``."""

    def __init__(self, procs: Processes, postmaster: int) -> None:
        self.procs, self.postmaster = procs, postmaster

    def snapshot(self, workers: list[str]) -> dict[str, float]:
        busy, total = machine_busy()
        return {
            "workers": sum(_proc_cpu(self.procs.running[n].pid) for n in workers if n in self.procs.running),
            "postgres": postgres_cpu(self.postmaster),
            "esp": _proc_cpu(self.procs.running["fake-esp"].pid),
            "machine": busy,
            "machine_total": total,
        }

    @staticmethod
    def report(before: dict, after: dict, messages: int) -> str:
        used = {k: after[k] - before[k] for k in before}
        per = {k: used[k] / max(messages, 1) * 1000 for k in ("workers", "postgres", "esp")}
        share = used["machine"] / max(used["machine_total"], 1e-9)
        return (
            f"CPU per message: workers {per['workers']:.1f} ms, PostgreSQL {per['postgres']:.1f} ms, "
            f"fake ESP {per['esp']:.1f} ms; machine {share:.0%} busy (all processes, {os.cpu_count()} cores)"
        )


def cycle_times(log_text: str) -> list[tuple[float, int]]:
    """(seconds, messages sent) of each cycle task a worker log says succeeded."""
    found = []
    for match in re.finditer(r"succeeded in ([0-9.]+)s: \{'campaign_id': \d+.*?'sent': (\d+)", log_text):
        found.append((float(match.group(1)), int(match.group(2))))
    return found
