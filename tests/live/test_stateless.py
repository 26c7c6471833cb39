"""What several processes must agree on without a shared memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_web_processes_starting_at_once_without_a_secret_key_all_sign_with_one_secret(
    tmp_path: Path,
) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PARTSVC_INSTANCE_DIR": str(tmp_path)}
    environment.pop("PARTSVC_SECRET_KEY", None)
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", "from partsvc import _instance_secret as s; print(s())"],
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    secrets = {process.communicate(timeout=120)[0].strip() for process in starting}
    kept = tmp_path / "secret_key"
    assert secrets == {kept.read_text().strip()}
    assert len(kept.read_text().strip()) >= 48
    assert kept.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
