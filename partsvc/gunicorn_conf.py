"""gunicorn's settings for ``partsvc serve``: logs as the app writes them (no access log:
the app logs every request itself, with its request id), and Prometheus samples of a
worker that exits marked dead so ``/metrics`` stops counting its live gauges."""

from __future__ import annotations

from typing import Any

from partsvc.platform.config import Settings
from partsvc.platform.logs import dict_config

_settings = Settings.from_env()

accesslog = None
logconfig_dict = dict_config(_settings.log_level, _settings.log_format)


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
