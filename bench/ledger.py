"""Benchmark of the stock ledger over real HTTP, on SQLite and on PostgreSQL.

What it measures, per backend, against ``gunicorn "partsvc:create_app()"`` (sync workers):

* writes: ``POST /api/v1/moves`` from N concurrent clients for a fixed time after a
  warm-up. Half the moves are receipts from a vendor into a warehouse, half transfers
  from a warehouse into a van; 100 parts with ample stock, a quarter of all moves on
  4 fast-moving parts so that some moves wait for the same stock row. Every request
  is a valid move with its own ``Idempotency-Key``; any answer but 201 is an error.
  Reported: moves/s, p50/p95/p99 latency, errors, and the CPU used by the load
  generator (this process), by gunicorn and by the whole machine. Afterwards the
  ledger is checked: one move per 201, every stock level equal to moves in minus out.
* reads: 50,000 parts and 200,000 stock rows (4 stocking locations per part, each
  filled by one receipt move from a vendor, plus the vendor's negative level row, so
  the ledger invariant holds) are bulk-loaded: COPY on PostgreSQL (with foreign key
  triggers off when the role may), one DB-API executemany per table on SQLite. Then
  ``GET /api/v1/stock?sku=<random sku>`` is timed from 1 client and from several.

The load generator shares the machine with the server and the database, so it is kept
cheap: threads on plain blocking sockets with hand-written HTTP/1.1 (``--client``
also offers asyncio streams and http.client, which cost 2-3 times more CPU per request
here). Gunicorn's sync workers close the connection after each answer, so every
request opens a new TCP connection; latency is measured from connect to the last byte.

On PostgreSQL the same run then measures the bare stack's ceiling (``bench/ceiling.py``:
Flask + SQLAlchemy Core + psycopg under the same gunicorn, one guarded UPDATE and one
INSERT per request) with the same clients, moves and durations, and prints the ratio
product/ceiling: only ratios within one run mean anything on a shared machine
(``--no-ceiling`` skips it).

The benchmark sets the limits it needs for the servers it starts (``--token-rate``: the
token rate limit, far above what the run can send; no ``PARTSVC_*`` variable is
inherited from the caller's environment) and prints every setting it ran with. Any
answer but the expected one (201 for a move, 200 for a read), in the warm-up or after,
is a failure: the figures are then VOID, and the benchmark says so and exits 1. So does
a ledger that does not match its answers.

Each backend starts from scratch: SQLite in a temporary folder; PostgreSQL in the
database named by ``--pg-url`` (default ``partsvc_bench``), dropped and created again.
The temporary folder (databases, gunicorn logs) is kept when anything failed.

Run from the repository root::

    .venv/bin/python bench/ledger.py                       # both backends, 20 s each
    .venv/bin/python bench/ledger.py --backend postgres --duration 5 --skip-read

It ends with a summary block to paste into docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import os
import platform
import random
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ceiling  # bench/ceiling.py: the bare stack
from proc_cpu import children, postgres_cpu, tree_cpu  # bench/proc_cpu.py

from partsvc.inventory import catalog, ledger
from partsvc.models import Location, Move, Part, StockLevel  # every model, so mappers resolve
from partsvc.platform.db import Database, utcnow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/partsvc_bench"
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}
NPROC = len(os.sched_getaffinity(0))  # what `nproc` prints

# The write workload.
WAREHOUSES = ("WH-1", "WH-2", "WH-3")
VANS = tuple(f"VAN-{i:02d}" for i in range(1, 9))
VENDOR = "VEND-1"
PARTS = tuple(f"BENCH-{i:04d}" for i in range(1, 101))
HOT_PARTS = PARTS[:4]
HOT_SHARE = 0.25
SEED_QTY = 100_000

# The read data set.
READ_PARTS = 50_000
READ_STOCKING = (("RD-WH-1", "warehouse"), ("RD-WH-2", "warehouse"))
READ_STOCKING += (("RD-VAN-1", "van"), ("RD-VAN-2", "van"))
READ_VENDOR = "RD-VEND"


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- figures


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class CpuSnapshot:
    """CPU seconds of this process, of gunicorn (master and workers), of the machine."""

    wall: float
    client: float
    server: float
    database: float
    machine_busy: float
    machine_total: float

    @classmethod
    def take(cls, server_pid: int | None) -> CpuSnapshot:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy, total = _machine_cpu()
        return cls(
            wall=time.perf_counter(),
            client=usage.ru_utime + usage.ru_stime,
            server=tree_cpu(server_pid) if server_pid else 0.0,
            database=_database_cpu(),
            machine_busy=busy,
            machine_total=total,
        )


def _machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of all cores since boot, from /proc/stat."""
    try:
        fields_ = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = [int(x) for x in fields_[:8]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


DATABASE_NAMES: set[str] = set()
"""The PostgreSQL databases whose backends' CPU counts as the database's (this run's)."""


def _database_cpu() -> float:
    """CPU seconds of the PostgreSQL backends serving this run's database."""
    return postgres_cpu(DATABASE_NAMES)


@dataclass
class Result:
    label: str
    clients: int
    measured: int = 0
    window_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)
    ok_total: int = 0
    sent_total: int = 0
    client_cpu_pct: float = 0.0
    client_cpu_us_per_request: float = 0.0
    server_cpu_pct: float = 0.0
    server_ms_per_request: float = 0.0
    database_ms_per_request: float = 0.0
    machine_busy_pct: float = 0.0

    @property
    def rate(self) -> float:
        return self.measured / self.window_s if self.window_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def line(self) -> str:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"
        return (
            f"{self.label}: {self.measured} requests in {self.window_s:.1f} s = "
            f"{self.rate:.1f}/s; p50 {self.p(50):.1f} ms, p95 {self.p(95):.1f} ms, "
            f"p99 {self.p(99):.1f} ms; errors {self.error_count} ({errors})\n"
            f"    CPU: load generator {self.client_cpu_pct:.0f} % of a core "
            f"({self.client_cpu_us_per_request:.0f} µs/request), gunicorn "
            f"{self.server_cpu_pct:.0f} %, whole machine {self.machine_busy_pct:.0f} % "
            f"of {NPROC} cores\n"
            f"    CPU per request: gunicorn {self.server_ms_per_request:.2f} ms, PostgreSQL "
            f"backends {self.database_ms_per_request:.2f} ms (the work per request, which the "
            f"machine's load changes less than the rate)"
        )


# ---------------------------------------------------------------- load generators


class Target(NamedTuple):
    host: str
    port: int
    token: str


class Request(NamedTuple):
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


# (phase, start, end, status, body of a failed answer); phase 0 is the warm-up.
Sample = tuple[int, float, float, int, bytes]


class Plan:
    """When to stop and which requests count: by time (writes) or by number (reads)."""

    def __init__(
        self,
        *,
        warmup_s: float = 0.0,
        duration_s: float | None = None,
        warmup_n: int = 0,
        total_n: int | None = None,
    ) -> None:
        self.warmup_s, self.duration_s = warmup_s, duration_s
        self.warmup_n, self.total_n = warmup_n, total_n
        self._tickets = itertools.count()
        self.start()

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self._tickets = itertools.count()

    def ticket(self, now: float) -> int:
        """-1: stop; 0: a warm-up request; 1: a measured request."""
        if self.duration_s is not None:
            measure_from = self.t0 + self.warmup_s
            if now >= measure_from + self.duration_s:
                return -1
            return 1 if now >= measure_from else 0
        n = next(self._tickets)  # atomic under the GIL
        assert self.total_n is not None
        if n >= self.warmup_n + self.total_n:
            return -1
        return 1 if n >= self.warmup_n else 0


def _raw(target: Target, request: Request) -> bytes:
    head = [
        f"{request.method} {request.path} HTTP/1.1",
        f"Host: {target.host}:{target.port}",
        f"Authorization: Bearer {target.token}",
    ]
    if request.body:
        head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(request.body)}")
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


def _parse_head(head: bytes) -> tuple[int, int | None, bool]:
    """Status, Content-Length (None: read to the end) and whether the server closes."""
    status = int(head[9:12])
    length: int | None = None
    close = head.startswith(b"HTTP/1.0")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ValueError("chunked answers are not supported")
    return status, length, close or length is None


def _sample(phase: int, start: float, status: int, body: bytes, expect: int) -> Sample:
    return (phase, start, time.perf_counter(), status, b"" if status == expect else body)


def _failure(exc: Exception) -> tuple[int, bytes, bool]:
    return 0, repr(exc).encode(), True


def _socket_exchange(sock: socket.socket, raw: bytes) -> tuple[int, bytes, bool]:
    """Send one request; read one answer framed by Content-Length (or by close)."""
    sock.sendall(raw)
    buffer = b""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the answer")
        buffer += chunk
    status, length, close = _parse_head(buffer[:end])
    body = buffer[end + 4 :]
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            if length is None:
                break
            raise ConnectionError("closed in the middle of the answer")
        body += chunk
    return status, body, close


def run_sockets(
    target: Target, make: Callable[[], Request], plan: Plan, clients: int, expect: int
) -> list[Sample]:
    """Clients as threads on plain blocking sockets, raw HTTP/1.1: the cheapest here."""
    per_client: list[list[Sample]] = [[] for _ in range(clients)]

    def client(samples: list[Sample]) -> None:
        sock: socket.socket | None = None
        try:
            while (phase := plan.ticket(start := time.perf_counter())) >= 0:
                raw = _raw(target, make())
                try:
                    if sock is None:
                        sock = socket.create_connection((target.host, target.port), timeout=120)
                    status, body, close = _socket_exchange(sock, raw)
                except (OSError, ValueError) as exc:
                    status, body, close = _failure(exc)
                samples.append(_sample(phase, start, status, body, expect))
                if close and sock is not None:
                    sock.close()
                    sock = None
        finally:
            if sock is not None:
                sock.close()

    return _in_threads(client, per_client, plan)


def _in_threads(
    client: Callable[[list[Sample]], None], per_client: list[list[Sample]], plan: Plan
) -> list[Sample]:
    threads = [threading.Thread(target=client, args=(s,), daemon=True) for s in per_client]
    plan.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [s for samples in per_client for s in samples]


async def _stream_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes, bool]:
    writer.write(raw)
    status, length, close = _parse_head(await reader.readuntil(b"\r\n\r\n"))
    if length is None:
        return status, await reader.read(), True
    return status, await reader.readexactly(length), close


def run_asyncio(
    target: Target, make: Callable[[], Request], plan: Plan, clients: int, expect: int
) -> list[Sample]:
    """Clients as coroutines, raw HTTP/1.1 over asyncio streams."""

    async def client(samples: list[Sample]) -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while (phase := plan.ticket(start := time.perf_counter())) >= 0:
                raw = _raw(target, make())
                try:
                    if conn is None:
                        conn = await asyncio.open_connection(target.host, target.port)
                    status, body, close = await _stream_exchange(conn[0], conn[1], raw)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    status, body, close = _failure(exc)
                samples.append(_sample(phase, start, status, body, expect))
                if close and conn is not None:
                    conn[1].close()
                    conn = None
        finally:
            if conn is not None:
                conn[1].close()

    async def main() -> list[Sample]:
        per_client: list[list[Sample]] = [[] for _ in range(clients)]
        plan.start()
        await asyncio.gather(*(client(s) for s in per_client))
        return [s for samples in per_client for s in samples]

    return asyncio.run(main())


def run_httpclient(
    target: Target, make: Callable[[], Request], plan: Plan, clients: int, expect: int
) -> list[Sample]:
    """Clients as threads, each with one http.client connection (reopened when closed)."""
    per_client: list[list[Sample]] = [[] for _ in range(clients)]

    def client(samples: list[Sample]) -> None:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=120)
        auth = f"Bearer {target.token}"
        try:
            while (phase := plan.ticket(start := time.perf_counter())) >= 0:
                request = make()
                headers = {"Authorization": auth, **request.headers}
                if request.body:
                    headers["Content-Type"] = "application/json"
                try:
                    conn.request(request.method, request.path, request.body or None, headers)
                    answer = conn.getresponse()
                    status, body = answer.status, answer.read()
                except (OSError, http.client.HTTPException) as exc:
                    status, body, _ = _failure(exc)
                    conn.close()
                samples.append(_sample(phase, start, status, body, expect))
        finally:
            conn.close()

    return _in_threads(client, per_client, plan)


# Client CPU per request, measured on the 2-core test machine against gunicorn sync workers
# (which close the connection after each answer): sockets 0.15-0.3 ms, asyncio 0.4-0.55 ms,
# http.client 0.45-0.55 ms; the sockets client also reached the highest request rate.
GENERATORS = {"sockets": run_sockets, "asyncio": run_asyncio, "httpclient": run_httpclient}


def drive(
    label: str,
    *,
    generator: str,
    target: Target,
    make: Callable[[], Request],
    plan: Plan,
    clients: int,
    expect: int,
    server_pid: int | None,
) -> Result:
    before = CpuSnapshot.take(server_pid)
    samples = GENERATORS[generator](target, make, plan, clients, expect)
    after = CpuSnapshot.take(server_pid)

    result = Result(label, clients)
    measured = [s for s in samples if s[0] == 1]
    result.measured = len(measured)
    if measured:
        result.window_s = max(s[2] for s in measured) - min(s[1] for s in measured)
    result.latencies_ms = sorted((end - start) * 1000 for _, start, end, _, _ in measured)
    for _, _, _, status, body in samples:
        if status != expect:
            key = str(status) if status else "no answer"
            result.errors[key] += 1
            result.error_samples.setdefault(key, body[:300].decode("utf-8", "replace"))
    result.sent_total = len(samples)
    result.ok_total = sum(1 for s in samples if s[3] == expect)

    wall = after.wall - before.wall
    client_cpu = after.client - before.client
    result.client_cpu_pct = 100 * client_cpu / wall
    result.client_cpu_us_per_request = 1e6 * client_cpu / max(1, len(samples))
    result.server_cpu_pct = 100 * (after.server - before.server) / wall
    result.server_ms_per_request = 1e3 * (after.server - before.server) / max(1, len(samples))
    result.database_ms_per_request = 1e3 * (after.database - before.database) / max(1, len(samples))
    machine_total = after.machine_total - before.machine_total
    if machine_total > 0:
        result.machine_busy_pct = 100 * (after.machine_busy - before.machine_busy) / machine_total
    return result


class MoveMaker:
    """Valid moves: receipts vendor → warehouse, transfers warehouse → van (ample stock)."""

    def __init__(self, run_id: str, seed: int, path: str = "/api/v1/moves") -> None:
        self.run_id = run_id
        self.path = path
        self.rng = random.Random(seed)
        self.keys = itertools.count()

    def _part(self) -> str:
        rng = self.rng
        return rng.choice(HOT_PARTS) if rng.random() < HOT_SHARE else rng.choice(PARTS)

    def __call__(self) -> Request:
        rng = self.rng
        if rng.random() < 0.5:
            move = {"from": VENDOR, "to": rng.choice(WAREHOUSES), "reason": "receipt"}
            qty = rng.randint(1, 20)
        else:
            move = {"from": rng.choice(WAREHOUSES), "to": rng.choice(VANS), "reason": "van refill"}
            qty = rng.randint(1, 3)
        body = json.dumps({"sku": self._part(), "qty": qty, **move}, separators=(",", ":"))
        key = f"{self.run_id}-{next(self.keys)}"
        return Request("POST", self.path, body.encode(), {"Idempotency-Key": key})


class StockQueryMaker:
    def __init__(self, skus: list[str], seed: int) -> None:
        self.skus, self.rng = skus, random.Random(seed)

    def __call__(self) -> Request:
        return Request("GET", f"/api/v1/stock?sku={self.rng.choice(self.skus)}", b"", {})


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """gunicorn with sync workers in its own process group; always stopped on exit."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        log_path: Path,
        app: str = "partsvc:create_app()",
        chdir: Path = ROOT,
    ) -> None:
        self.env, self.workers, self.log_path = env, workers, log_path
        self.app, self.chdir = app, chdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        args = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        args += ["--workers", str(self.workers), "--worker-class", "sync"]
        args += ["--graceful-timeout", "5", "--chdir", str(self.chdir), self.app]
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_up()
            self._wait_until_booted()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_booted(self, timeout_s: float = 120) -> None:
        """Until every worker has loaded the app and the server sits idle: /healthz
        answers as soon as one worker is up, and the others' boot (a second or more of
        CPU each on a busy machine) would count as the first requests' work."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        before = tree_cpu(self.proc.pid)
        while time.monotonic() < deadline:
            time.sleep(1.0)
            after = tree_cpu(self.proc.pid)
            workers = children(self.proc.pid)
            if len(workers) >= self.workers and after - before < 0.05:
                return
            before = after
        raise RuntimeError(f"gunicorn's workers did not settle in {timeout_s} s")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_until_up(self, timeout_s: float = 60) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: the master and its workers
            proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_problems(self) -> Counter[str]:
        """Warnings and errors the app logged, and the exceptions of its tracebacks."""
        found: Counter[str] = Counter()
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return found
        in_traceback = False
        for line in lines:
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line and not line.startswith(" "):
                found[f"exception {line[:240]}"] += 1
                in_traceback = False
            for level in (" WARNING ", " ERROR ", " CRITICAL "):
                if level in line:
                    found[f"{level.strip()} {line.split(level, 1)[1][:120]}"] += 1
        return found


# ---------------------------------------------------------------- database set-up


def reset_postgres(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database or ""
    if name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to drop database {name!r}; name a scratch database")
    conninfo = make_conninfo(
        host=parsed.host or "127.0.0.1",
        port=str(parsed.port or 5432),
        user=parsed.username or "postgres",
        password=parsed.password or "",
        dbname="postgres",
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        quoted = pgsql.Identifier(name)
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))
        conn.execute(pgsql.SQL("CREATE DATABASE {}").format(quoted))


def partsvc_cli(args: list[str], env: dict[str, str]) -> str:
    script = BIN / "partsvc"
    if script.exists():
        command = [str(script)]
    else:
        command = [sys.executable, "-c", "from partsvc.cli import main; main()"]
    done = subprocess.run(command + args, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"partsvc {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def seed_write_data(db: Database) -> int:
    """Locations, parts and opening stock for the write benchmark; returns moves booked."""
    now = utcnow()
    with db.unit_of_work() as session:
        catalog.create_location(session, code=VENDOR, name="Bench vendor", kind="vendor")
        for code in WAREHOUSES:
            catalog.create_location(session, code=code, name=f"Bench {code}", kind="warehouse")
        for code in VANS:
            catalog.create_location(session, code=code, name=f"Bench {code}", kind="van")
        for sku in PARTS:
            catalog.create_part(session, sku=sku, name=f"Bench part {sku}")
    with db.unit_of_work() as session:
        for sku in PARTS:
            for code in WAREHOUSES:
                ledger.post_move(
                    session,
                    sku=sku,
                    qty=SEED_QTY,
                    from_code=VENDOR,
                    to_code=code,
                    reason="opening stock",
                    now=now,
                )
    return len(PARTS) * len(WAREHOUSES)


def ledger_mismatches(conn: Connection) -> int:
    """Stock levels that differ from their moves in minus out (R1); 0 when consistent."""
    return int(
        conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT part_id, location_id FROM ("
                " SELECT part_id, location_id, on_hand AS q FROM stock_levels"
                " UNION ALL SELECT part_id, to_location_id, -qty FROM moves"
                " UNION ALL SELECT part_id, from_location_id, qty FROM moves"
                ") AS x GROUP BY part_id, location_id HAVING sum(q) <> 0) AS bad"
            )
        )
        or 0
    )


def _copy_or_insert(conn: Connection, table: Any, columns: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL, a plain DB-API executemany on SQLite: no per-row ORM work."""
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
    else:
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        conn.exec_driver_sql(sql, rows)


def _skip_foreign_key_triggers(conn: Connection) -> bool:
    """PostgreSQL: no per-row foreign key triggers for this transaction, if we may.

    A bulk-load shortcut (what pg_restore --disable-triggers does): every id loaded was
    just read back from the database, and the ledger is checked after the load.
    """
    if conn.dialect.name != "postgresql":
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    except DBAPIError:
        return False
    return True


def _as_stored(conn: Connection, column: Any, value: Any) -> Any:
    """``value`` as SQLAlchemy would send it for ``column`` (e.g. a UTC timestamp)."""
    processor = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor(value) if processor else value


def load_read_data(db: Database, user_id: int | None) -> tuple[list[str], bool]:
    """50,000 parts and 4 stock rows each, consistent with the ledger.

    Returns the SKUs, and whether foreign key checks were skipped during the load.
    """
    rng = random.Random(7)
    now = utcnow()
    skus = [f"RD-{i:06d}" for i in range(1, READ_PARTS + 1)]
    with db.engine.begin() as conn:
        skipped_fk_checks = _skip_foreign_key_triggers(conn)
        locations = [(code, f"Read bench {code}", kind) for code, kind in READ_STOCKING]
        locations.append((READ_VENDOR, "Read bench vendor", "vendor"))
        conn.execute(
            Location.__table__.insert(),
            [
                {"code": c, "name": n, "kind": k, "active": True, "created_at": now}
                for c, n, k in locations
            ],
        )
        query = select(Location.code, Location.id).where(Location.code.like("RD-%"))
        location_ids = {code: id_ for code, id_ in conn.execute(query)}
        vendor_id = location_ids[READ_VENDOR]
        stocking_ids = [location_ids[code] for code, _ in READ_STOCKING]

        stamp = _as_stored(conn, Move.__table__.c.at, now)
        _copy_or_insert(
            conn,
            Part.__table__,
            ["sku", "name", "serialized", "created_at"],
            [(sku, f"Read bench part {sku}", False, stamp) for sku in skus],
        )
        part_ids = list(conn.scalars(select(Part.id).where(Part.sku.like("RD-%"))))

        quantities = iter(rng.choices(range(1, 41), k=len(part_ids) * len(stocking_ids)))
        moves, levels = [], []
        for part_id in part_ids:
            received = 0
            for location_id in stocking_ids:
                qty = next(quantities)
                received += qty
                moves.append(
                    (part_id, qty, vendor_id, location_id, "receipt", stamp, stamp, user_id)
                )
                levels.append((part_id, location_id, qty, 0, True))
            levels.append((part_id, vendor_id, -received, 0, False))
        move_columns = ["part_id", "qty", "from_location_id", "to_location_id", "reason"]
        move_columns += ["at", "recorded_at", "user_id"]
        _copy_or_insert(conn, Move.__table__, move_columns, moves)
        level_columns = ["part_id", "location_id", "on_hand", "reserved", "guarded"]
        _copy_or_insert(conn, StockLevel.__table__, level_columns, levels)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return skus, skipped_fk_checks


# ---------------------------------------------------------------- one backend


@dataclass
class BackendReport:
    name: str
    version: str
    write: Result | None = None
    ceiling: Result | None = None
    reads: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_s: float = 0.0
    ledger_ok: bool = True

    @property
    def failed(self) -> bool:
        results = [r for r in (self.write, self.ceiling, *self.reads) if r is not None]
        return not self.ledger_ok or any(r.error_count for r in results)

    @property
    def ratio(self) -> float | None:
        """Product moves/s over the bare stack's, in this run."""
        if self.write is None or self.ceiling is None or not self.ceiling.rate:
            return None
        return self.write.rate / self.ceiling.rate


def server_settings(url: str, work: Path, args: argparse.Namespace) -> dict[str, str]:
    """What the product's server runs with: set here, never inherited."""
    return {
        "PARTSVC_DATABASE_URL": url,
        "PARTSVC_INSTANCE_DIR": str(work / "instance"),
        "PARTSVC_TOKEN_RATE": args.token_rate,
        "PARTSVC_TOKEN_FAILURE_RATE": "20/minute",
        "PARTSVC_LOGIN_RATE": "10/minute",
        "PARTSVC_DB_POOL_SIZE": "10",
        "PARTSVC_LOG_LEVEL": "INFO",
        "PARTSVC_LOG_FORMAT": "json",
        "PARTSVC_SECRET_KEY": "bench-" + secrets.token_hex(8),
    }


def clean_environment() -> dict[str, str]:
    """The caller's environment without any PARTSVC_ or CEILING_ setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PARTSVC_", "CEILING_"))}


def print_settings(args: argparse.Namespace, backends: tuple[str, ...]) -> None:
    shown = {k: v for k, v in server_settings("<per backend>", Path("<tmp>"), args).items()}
    shown["PARTSVC_SECRET_KEY"] = "<random per run>"
    log("settings of this run:")
    log(
        f"  backends {', '.join(backends)}; gunicorn {args.workers} sync workers; "
        f"{args.clients} clients ({args.client}); warm-up {args.warmup:g} s, "
        f"measured {args.duration:g} s; ceiling {'no' if args.no_ceiling else 'yes (PostgreSQL)'}"
    )
    log(f"  PostgreSQL scratch database {make_url(args.pg_url).database} (recreated)")
    for name, value in shown.items():
        log(f"  {name}={value}")
    log("  every other PARTSVC_* variable unset (no Redis: limits counted in the database)")


def bench_backend(name: str, url: str, args: argparse.Namespace, work: Path) -> BackendReport:
    if name == "postgres":
        log(f"[{name}] recreating database {make_url(url).database}")
        reset_postgres(url)
        DATABASE_NAMES.add(make_url(url).database or "")
    env = clean_environment()
    env.update(server_settings(url, work, args))
    log(f"[{name}] migrating, creating a clerk and the write data set")
    partsvc_cli(["db", "upgrade"], env)
    token = partsvc_cli(["users", "create", "bench", "--role", "clerk"], env).strip()
    token = token.splitlines()[-1].strip()

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                backend_version = f"SQLite {sqlite3.sqlite_version}"
            else:
                backend_version = f"PostgreSQL {conn.scalar(text('SHOW server_version'))}"
            user_id = conn.scalar(text("SELECT id FROM users WHERE username = 'bench'"))
        report = BackendReport(name, backend_version)
        seeded = seed_write_data(db)

        with Server(env, args.workers, work / f"gunicorn-{name}.log") as server:
            target = Target("127.0.0.1", server.port, token)
            log(
                f"[{name}] gunicorn {args.workers} sync workers on port {server.port}; "
                f"{args.clients} clients, {args.warmup:g} s warm-up + {args.duration:g} s"
            )
            write = drive(
                f"{name} POST /api/v1/moves",
                generator=args.client,
                target=target,
                make=MoveMaker(secrets.token_hex(4), seed=1),
                plan=Plan(warmup_s=args.warmup, duration_s=args.duration),
                clients=args.clients,
                expect=201,
                server_pid=server.pid,
            )
            report.write = write
            log("  " + write.line())
            for status, sample in write.error_samples.items():
                report.notes.append(f"write error {status}: {sample}")

            with db.engine.connect() as conn:
                booked = conn.scalar(select(func.count()).select_from(Move.__table__)) or 0
                mismatches = ledger_mismatches(conn)
            if booked - seeded != write.ok_total:
                report.ledger_ok = False
                report.notes.append(
                    f"{booked - seeded} moves booked but {write.ok_total} answered 201"
                )
            if mismatches:
                report.ledger_ok = False
                report.notes.append(f"{mismatches} stock levels differ from the ledger")
            log(
                f"  ledger check: {booked - seeded} moves booked for {write.ok_total} × 201; "
                f"{mismatches} levels differ from the ledger"
            )

            if not args.skip_read:
                report.reads = read_benchmark(name, db, target, user_id, args, server, report)

            for message, count in server.log_problems().most_common(6):
                report.notes.append(f"server log {count} × {message}")
        if name == "postgres" and not args.no_ceiling:
            bench_ceiling(url, args, work, report)
        return report
    finally:
        db.dispose()


def bench_ceiling(url: str, args: argparse.Namespace, work: Path, report: BackendReport) -> None:
    """The same write load on the bare stack (bench/ceiling.py), in the same database."""
    codes = (VENDOR, *WAREHOUSES, *VANS)
    ceiling.prepare(url, PARTS, codes, 10 * SEED_QTY)
    env = clean_environment()
    env["CEILING_DATABASE_URL"] = url
    bench_dir = ROOT / "bench"
    app = "ceiling:create_app()"
    with Server(env, args.workers, work / "gunicorn-ceiling.log", app, bench_dir) as server:
        target = Target("127.0.0.1", server.port, "-")
        log("[ceiling] bare Flask + SQLAlchemy Core + psycopg, same gunicorn and load")
        result = drive(
            "ceiling POST /moves",
            generator=args.client,
            target=target,
            make=MoveMaker(secrets.token_hex(4), seed=1, path="/moves"),
            plan=Plan(warmup_s=args.warmup, duration_s=args.duration),
            clients=args.clients,
            expect=201,
            server_pid=server.pid,
        )
        log("  " + result.line())
        for status, sample in result.error_samples.items():
            report.notes.append(f"ceiling error {status}: {sample}")
    report.ceiling = result
    booked = ceiling.moves_booked(url)
    if booked != result.ok_total:
        report.ledger_ok = False
        report.notes.append(f"ceiling: {booked} lines booked but {result.ok_total} answered 201")
    if report.ratio is not None:
        log(f"  product / ceiling: {report.ratio:.2f}")


def read_benchmark(
    name: str,
    db: Database,
    target: Target,
    user_id: int | None,
    args: argparse.Namespace,
    server: Server,
    report: BackendReport,
) -> list[Result]:
    log(f"[{name}] bulk-loading {READ_PARTS:,} parts and {4 * READ_PARTS:,} stock rows")
    started = time.perf_counter()
    skus, skipped_fk_checks = load_read_data(db, user_id)
    report.load_s = time.perf_counter() - started
    if skipped_fk_checks:
        report.notes.append("bulk load by COPY with foreign key triggers off (replica role)")
    with db.engine.connect() as conn:
        mismatches = ledger_mismatches(conn)
        levels = conn.scalar(select(func.count()).select_from(StockLevel.__table__))
    log(f"  loaded in {report.load_s:.1f} s; {levels:,} level rows, {mismatches} mismatches")
    if mismatches:
        report.ledger_ok = False
        report.notes.append(f"after the bulk load {mismatches} levels differ from the ledger")

    probe = http.client.HTTPConnection(target.host, target.port, timeout=30)
    probe.request("GET", f"/api/v1/stock?sku={skus[0]}", headers=_auth(target))
    answer = probe.getresponse()
    items = json.loads(answer.read()).get("items", [])
    probe.close()
    if answer.status != 200 or len(items) != len(READ_STOCKING):
        report.notes.append(f"GET /stock answered {answer.status} with {len(items)} items")

    results = []
    for clients in sorted({1, args.read_clients}):
        result = drive(
            f"{name} GET /api/v1/stock?sku=… ({clients} client{'s' if clients > 1 else ''})",
            generator=args.client,
            target=target,
            make=StockQueryMaker(skus, seed=clients),
            plan=Plan(warmup_n=50, total_n=args.read_requests),
            clients=clients,
            expect=200,
            server_pid=server.pid,
        )
        log("  " + result.line())
        for status, sample in result.error_samples.items():
            report.notes.append(f"read error {status}: {sample}")
        results.append(result)
    return results


def _auth(target: Target) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.token}"}


# ---------------------------------------------------------------- summary


def summary(reports: list[BackendReport], args: argparse.Namespace, command: str) -> str:
    versions = ", ".join(r.version for r in reports)
    out = [
        f"### Stock ledger benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Command: `{command}`",
        f"- Machine: {platform.machine()}, nproc {NPROC}, "
        f"Python {platform.python_version()}, {versions}",
        f"- Server: gunicorn {version('gunicorn')}, {args.workers} sync workers, "
        f"on the same machine as the database and the load generator "
        f"({args.client}, {args.clients} clients)",
        f"- Writes: `POST /api/v1/moves` for {args.duration:g} s after a {args.warmup:g} s "
        f"warm-up; half receipts vendor → warehouse, half transfers warehouse → van; "
        f"{len(PARTS)} parts, {HOT_SHARE:.0%} of moves on {len(HOT_PARTS)} hot parts; "
        f"each with its own Idempotency-Key",
        f"- Settings: PARTSVC_TOKEN_RATE={args.token_rate} (set by the benchmark), limits "
        f"counted in the database, no other PARTSVC_* setting inherited; any answer but "
        f"201 voids the figures",
        "",
        "| Backend | moves/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/move "
        "| PostgreSQL CPU ms/move | load generator CPU | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        for label, w in ((r.name, r.write), (f"{r.name}: bare-stack ceiling", r.ceiling)):
            if w is None:
                continue
            out.append(
                f"| {label} | {w.rate:.0f} | {w.p(50):.1f} | {w.p(95):.1f} | {w.p(99):.1f} "
                f"| {w.error_count} | {w.server_ms_per_request:.2f} "
                f"| {w.database_ms_per_request:.2f} | {w.client_cpu_pct:.0f} % of a core "
                f"| {w.machine_busy_pct:.0f} % |"
            )
        if r.ratio is not None:
            out.append(f"| {r.name}: product / ceiling | {r.ratio:.2f} | | | | | | | | |")
    if any(r.reads for r in reports):
        out += [
            "",
            f"- Reads: `GET /api/v1/stock?sku=<random>` on {READ_PARTS:,} parts with "
            f"{len(READ_STOCKING)} stock rows each ({len(READ_STOCKING) * READ_PARTS:,} rows, "
            f"plus one vendor row per part), {args.read_requests} requests after 50 warm-up; "
            f"target: p95 under 20 ms",
            "",
            "| Backend | clients | req/s | p50 ms | p95 ms | p99 ms | errors | bulk load s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in reports:
            for rd in r.reads:
                out.append(
                    f"| {r.name} | {rd.clients} | {rd.rate:.0f} | {rd.p(50):.1f} "
                    f"| {rd.p(95):.1f} | {rd.p(99):.1f} | {rd.error_count} | {r.load_s:.1f} |"
                )
    notes = [f"{r.name}: {note}" for r in reports for note in r.notes]
    if notes:
        out += ["", "Notes:", *(f"- {note}" for note in notes)]
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--clients", type=int, default=16, help="concurrent writers")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--skip-read", action="store_true", help="skip the read benchmark")
    parser.add_argument("--read-requests", type=int, default=1000, help="per read pass")
    parser.add_argument("--read-clients", type=int, default=4, help="clients of the 2nd pass")
    parser.add_argument(
        "--client", choices=tuple(GENERATORS), default="sockets", help="load generator"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="scratch database, recreated")
    parser.add_argument(
        "--token-rate",
        default="10000000/minute",
        help="the product's token rate limit for this run (PARTSVC_TOKEN_RATE)",
    )
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip the bare stack (bench/ceiling.py)"
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so gunicorn is stopped by the finally blocks."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    python = os.path.relpath(sys.executable) if sys.executable.startswith(str(ROOT)) else "python"
    command = shlex.join([python, "bench/ledger.py", *sys.argv[1:]])
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    reports = []
    print_settings(args, backends)
    tmp = Path(tempfile.mkdtemp(prefix="partsvc-bench-"))
    keep = True  # the server logs stay for a look if anything went wrong
    with sigterm_as_exit():
        try:
            for name in backends:
                work = tmp / name
                work.mkdir()
                url = f"sqlite:///{work / 'partsvc.db'}" if name == "sqlite" else args.pg_url
                reports.append(bench_backend(name, url, args, work))
            keep = any(r.failed for r in reports)
        finally:
            if keep:
                log(f"kept the databases and gunicorn logs in {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    log("\n" + summary(reports, args, command))
    if keep:
        failures = sum(
            r.error_count for rep in reports for r in (rep.write, rep.ceiling, *rep.reads) if r
        )
        log(
            f"\nVOID: {failures} answers were not the expected status"
            f"{' and the ledger check failed' if not all(r.ledger_ok for r in reports) else ''};"
            " these figures measure nothing. Fix the cause and run again."
        )
    return 1 if keep else 0


if __name__ == "__main__":
    sys.exit(main())
