"""gunicorn's settings for ``partsvc serve``: logs as the app writes them (no access log:
the app logs every request itself, with its request id), and Prometheus samples of a
worker that exits marked dead so ``/metrics`` stops counting its live gauges; the samples'
temporary folder, when ``partsvc serve`` made it, removed when gunicorn exits."""

from __future__ import annotations

import os
import shutil
from typing import Any

from partsvc.platform.config import Settings
from partsvc.platform.logs import dict_config

_settings = Settings.from_env()

accesslog = None
logconfig_dict = dict_config(_settings.log_level, _settings.log_format)


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


MADE_METRICS_FOLDER = "PARTSVC_MADE_METRICS_FOLDER"
"""Set by ``partsvc serve`` to the temporary samples folder it made (none when given one)."""


def on_exit(_server: Any) -> None:
    made = os.environ.get(MADE_METRICS_FOLDER)
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)
