"""The dependency audit of `make lint` fails on a known vulnerability, and on packages it
could not check when told to be strict (tools/audit_dependencies.py, docs/DECISIONS.md).

No advisory service reaches CI here, so a stand-in OSV server on 127.0.0.1 that knows one
advisory plays the part of api.osv.dev; pip-audit is asked through its ``--osv-url``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

AUDIT = Path(__file__).parents[2] / "tools" / "audit_dependencies.py"
ADVISORY = {
    "id": "GHSA-462w-v97r-4m45",
    "aliases": ["CVE-2019-10906"],
    "summary": "Jinja2 sandbox escape via string formatting",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"name": "jinja2", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
        }
    ],
}


class _Osv(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        known = asked["package"]["name"].lower() == "jinja2" and asked["version"] == "2.10"
        body = json.dumps({"vulns": [ADVISORY]} if known else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Osv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def _audit(pins: str, tmp_path: Path, *extra: str, strict: bool = False):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pins)
    env = {**os.environ, "PARTSVC_AUDIT_STRICT": "1" if strict else "0"}
    command = [sys.executable, str(AUDIT), "-r", str(requirements), "--no-deps"]
    command += ["--disable-pip", *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_a_pin_with_a_known_vulnerability_fails_the_audit(osv_url: str, tmp_path: Path) -> None:
    run = _audit("jinja2==2.10\n", tmp_path, "-s", "osv", "--osv-url", osv_url)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "VULNERABLE jinja2 2.10" in run.stdout
    assert "2.10.1" in run.stdout


def test_a_pin_past_the_fix_passes_the_audit(osv_url: str, tmp_path: Path) -> None:
    run = _audit("jinja2==2.10.1\n", tmp_path, "-s", "osv", "--osv-url", osv_url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "checked 1 of 1 packages" in run.stdout


def test_a_package_that_could_not_be_checked_is_named_and_fails_a_strict_audit(
    tmp_path: Path,
) -> None:
    run = _audit("partsvc-no-such-package==0.0.1\n", tmp_path, strict=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "NOT CHECKED (1): partsvc-no-such-package" in run.stdout


def test_a_package_that_could_not_be_checked_is_never_a_pass(tmp_path: Path) -> None:
    """Issue 23 (9): not strict and no advisory data (CI's closed network) is exit 2 and a
    last line that says UNCHECKED; where PyPI answers, it is a failure. Never exit 0."""
    run = _audit("partsvc-no-such-package==0.0.1\n", tmp_path)
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode in (1, 2), run.stdout + run.stderr
    assert last.startswith("UNCHECKED: 1 of 1 packages" if run.returncode == 2 else "FAILED")
