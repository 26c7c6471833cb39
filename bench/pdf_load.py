"""A clerk's `GET /api/v1/parts` while one engineer asks for 64 PDFs at once (issue 23,
finding 5: before the render turns, 64 PDF requests held every worker and the clerk
waited 6.5 s).

Loads the demo into a fresh SQLite file and starts gunicorn (sync workers, no token rate
limit to speak of) on it. Then ``--pdf-clients`` threads of the engineer `wang` each ask at once
for his day sheet (`/api/v1/engineers/E-WANG/day.pdf`) until they have it, as API.md asks
of a client: on a 429 or 503, again after `Retry-After` seconds plus up to 50 % jitter.
Meanwhile one clerk asks for the parts list over and over, until the last PDF is in. The
engineer's answers must be 200 or 429 (refused a render turn: counted, not an error); the
clerk's 200. Any other answer makes the run VOID (exit 1). Prints the settings, the PDF
answers by status, the clerk's p50/p95/max in ms and a JSON line; exits 1 when the
clerk's p95 is not under ``--target-ms``.

    .venv/bin/python bench/pdf_load.py [--workers 8] [--pdf-clients 64]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.verdict import Answers, show_settings  # noqa: E402
from partsvc.auth.identity import issue_token, user_named  # noqa: E402
from partsvc.demo import load_demo  # noqa: E402
from partsvc.platform import migrate  # noqa: E402
from partsvc.platform.db import Database, utcnow  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str, token: str) -> tuple[int, float, str | None]:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        answer = connection.getresponse()
        answer.read()
        elapsed = (time.perf_counter() - began) * 1000
        return answer.status, elapsed, answer.getheader("Retry-After")
    finally:
        connection.close()


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--pdf-clients", type=int, default=64)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--target-ms", type=float, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pdf-load-"))
    url = f"sqlite:///{folder / 'partsvc.db'}"
    migrate.upgrade(url)
    database = Database(url)
    with database.unit_of_work() as session:
        load_demo(session, now=utcnow() - timedelta(hours=2), part_count=300)
        engineer = issue_token(session, user_named(session, "wang"))
        clerk = issue_token(session, user_named(session, "clerk"))
    database.dispose()
    port = free_port()
    environment = {
        **os.environ,
        "PARTSVC_DATABASE_URL": url,
        "PARTSVC_INSTANCE_DIR": str(folder),
        "PARTSVC_SECRET_KEY": "pdf-load",
        "PARTSVC_LOG_LEVEL": "WARNING",
        # The clerk asks back to back, faster than a person: their token's own rate limit
        # is not what is measured here.
        "PARTSVC_TOKEN_RATE": "1000000/minute",
    }
    show_settings(
        workers=args.workers,
        pdf_clients=args.pdf_clients,
        seed=args.seed,
        renders_per_user=os.environ.get("PARTSVC_RENDERS_PER_USER", "2"),
        renders_per_process=os.environ.get("PARTSVC_RENDERS_PER_PROCESS", "2"),
        database="sqlite",
        cpus=os.cpu_count(),
    )
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(args.workers), "--timeout", "120", "partsvc:create_app()"]
    server = subprocess.Popen(command, env=environment, cwd=folder, stderr=subprocess.DEVNULL)
    answers = Answers()
    lock = threading.Lock()
    pdf_statuses: Counter[int] = Counter()
    clerk_ms: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz", clerk)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("VOID: the server did not come up")
                return 1
            time.sleep(0.2)
        for _ in range(3):  # warm every worker's fonts a little, and the clerk's path
            get(port, "/api/v1/parts", clerk)
        stop = threading.Event()
        jitter = random.Random(args.seed)

        def engineer_asks() -> None:
            while True:
                status, _ms, retry_after = get(port, "/api/v1/engineers/E-WANG/day.pdf", engineer)
                with lock:
                    pdf_statuses[status] += 1
                    wait = float(retry_after or 0) * (1 + jitter.random() / 2)
                if status != 429:
                    answers.check("GET day.pdf", status, 200)
                    return
                time.sleep(wait)

        def clerk_asks() -> None:
            while not stop.is_set():
                status, ms, _retry = get(port, "/api/v1/parts", clerk)
                with lock:
                    if answers.check("GET /api/v1/parts", status, 200):
                        clerk_ms.append(ms)

        engineers = [threading.Thread(target=engineer_asks) for _ in range(args.pdf_clients)]
        clerk_thread = threading.Thread(target=clerk_asks)
        began = time.monotonic()
        for thread in [*engineers, clerk_thread]:
            thread.start()
        for thread in engineers:
            thread.join(timeout=600)
        seconds = time.monotonic() - began
        stop.set()
        clerk_thread.join(timeout=180)
    finally:
        server.terminate()
        server.wait(timeout=60)
    ordered = sorted(clerk_ms)
    p50, p95 = percentile(ordered, 0.5), percentile(ordered, 0.95)
    print(
        f"engineer's PDF answers: {dict(sorted(pdf_statuses.items()))}; "
        f"all {args.pdf_clients} PDFs in {seconds:.1f} s"
    )
    print(
        f"clerk GET /api/v1/parts: {len(ordered)} requests, p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms (target p95 < {args.target_ms:.0f} ms)"
    )
    print(
        json.dumps(
            {
                "pdf_answers": {str(k): v for k, v in sorted(pdf_statuses.items())},
                "pdf_seconds": round(seconds, 1),
                "clerk_requests": len(ordered),
                "clerk_p50_ms": round(p50),
                "clerk_p95_ms": round(p95),
                "clerk_max_ms": round(ordered[-1]),
            }
        )
    )
    if answers.verdict():
        return 1
    return 0 if p95 < args.target_ms else 1


if __name__ == "__main__":
    sys.exit(main())
