"""What the tests need from the machine, checked before the first test, and the Redis
server the queue and rate-limit tests run against.

A missing program stops the run at once with one line naming the Debian packages to
install, rather than failing in two hundred places.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from redis import Redis

from tests.processes import free_port

CHROMIUM = os.environ.get("PARTSVC_CHROMIUM", "/usr/bin/chromium")


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return "Noto Sans CJK" in fonts.stdout


def missing_packages(*, browser: bool, redis: bool) -> list[str]:
    """The Debian packages the chosen tests need that this machine lacks."""
    missing = []
    if ctypes.util.find_library("pangoft2-1.0") is None:
        missing += ["libpango-1.0-0", "libpangoft2-1.0-0"]
    if ctypes.util.find_library("harfbuzz-subset") is None:
        missing.append("libharfbuzz-subset0")
    if not _has_cjk_font():
        missing += ["fontconfig", "fonts-noto-cjk"]
    if browser and not Path(CHROMIUM).exists():
        missing.append("chromium")
    if redis and shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


@contextmanager
def redis_server() -> Iterator[str]:
    """A ``redis-server`` of the run's own on a free port, keeping nothing on disk; its URL.

    PARTSVC_TEST_REDIS_URL names a running one instead (then nothing is started)."""
    given = os.environ.get("PARTSVC_TEST_REDIS_URL")
    if given:
        Redis.from_url(given).ping()
        yield given
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="partsvc-redis-") as folder:
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", folder, "--logfile", str(Path(folder, "log"))],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        client = Redis.from_url(url, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    client.ping()
                    break
                except Exception:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"redis-server did not start: {Path(folder, 'log').read_text()}"
                        ) from None
                    time.sleep(0.05)
            yield url
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)
