"""Real app processes for the tests: gunicorn serving the app against the test database.

Each process gets its own random free port, the database URL and a secret key through its
environment (PYTHONPATH is inherited), and is stopped with all its workers however the
test ends.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from partsvc.auth.identity import create_user, issue_token
from partsvc.platform.db import Database

START_TIMEOUT_S = 90.0


def free_port() -> int:
    """A port the system has just given out as free (random, never a fixed number)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clerk_token(database: Database) -> str:
    """A new clerk and an API token for them, committed before any server starts."""
    with database.unit_of_work() as session:
        user = create_user(session, username=f"clerk-{uuid.uuid4().hex[:8]}", role="clerk")
        return issue_token(session, user)


@contextmanager
def clerk_on(database_url: str) -> Iterator[tuple[Database, str]]:
    """The database the processes will serve and a new clerk's token on it, disposed of after."""
    database = Database(database_url)
    try:
        yield database, clerk_token(database)
    finally:
        database.dispose()


@dataclass
class AppProcess:
    """One gunicorn master and its workers."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> set[int]:
        """The pids of the master's live worker processes."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                found.add(int(entry.name))
        return found

    def busy_workers(self) -> set[int]:
        """The workers holding a client's connection open: in the middle of a request."""
        clients = _client_sockets(self.port)
        busy = set()
        for pid in self.workers():
            try:
                links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            except OSError:
                continue
            if links & clients:
                busy.add(pid)
        return busy

    def answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def wait_until_serving(self, workers: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
            if len(self.workers()) == workers and self.answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start in time:\n{self.log.read_text()}")

    def stop(self) -> None:
        """The master and every worker: gently, then for sure (the whole process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with suppress(ProcessLookupError):  # raised when all are gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def _client_sockets(port: int) -> set[str]:
    """``socket:[inode]`` of each established TCP connection to ``port`` (/proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            found.add(f"socket:[{fields[9]}]")
    return found


@contextmanager
def app_processes(
    database_url: str, folder: Path, *, count: int = 1, workers: int = 1, threads: int = 1
) -> Iterator[list[AppProcess]]:
    """``count`` gunicorn processes on their own ports, started together, serving."""
    env = {
        **os.environ,
        "PARTSVC_DATABASE_URL": database_url,
        "PARTSVC_SECRET_KEY": secrets.token_urlsafe(32),
        "PARTSVC_INSTANCE_DIR": str(folder),
        "PARTSVC_LOG_LEVEL": "WARNING",
    }
    with ExitStack() as stack:
        started = []
        for n in range(count):
            port = free_port()
            log = folder / f"gunicorn-{n}-{port}.log"
            output = stack.enter_context(log.open("wb"))
            command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
            command += ["--workers", str(workers), "--threads", str(threads)]
            command += ["--timeout", "60", "--graceful-timeout", "5", "partsvc:create_app()"]
            process = subprocess.Popen(
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its workers
            )
            app = AppProcess(port, process, log)
            stack.callback(app.stop)
            started.append(app)
        for app in started:
            app.wait_until_serving(workers)
        yield started
