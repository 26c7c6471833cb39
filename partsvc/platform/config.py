"""Settings, read from PARTSVC_* environment variables when the app is created."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("PARTSVC_INSTANCE_DIR", Path.cwd() / "instance"))


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'partsvc.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    secret_key: str | None = None
    timezone: str = "Asia/Shanghai"
    sqlite_busy_timeout_s: float = 30.0
    db_pool_size: int = 10
    log_level: str = "INFO"
    sla_warning_minutes: int = 30
    notifier: str = "log"
    """The channels messages go by, comma-separated: ``log``, ``smtp``, ``webhook``."""
    smtp_url: str | None = None
    smtp_from: str = "partsvc <noreply@localhost>"
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None
    staff_email: str | None = None
    staff_phone: str | None = None
    """The service desk's own address, told what concerns staff (new calls, late parts,
    overdue loaners)."""
    outbound_timeout_s: float = 5.0
    """Connect and read timeout of every outbound POST and SMTP session."""
    delivery_max_attempts: int = 8
    delivery_backoff_s: float = 30.0
    """A failed message or webhook is tried again after 30 s, 60 s, 120 s, ... and marked
    failed after ``delivery_max_attempts`` tries."""
    webhook_allow_private: bool = False
    """Let integrators' webhooks reach loopback and private addresses (an intranet)."""
    outbox_queue: str = "partsvc-outbox"
    osrm_url: str | None = None
    osrm_timeout_s: float = 5.0
    road_factor: float = 1.3
    average_speed_kmh: float = 30.0
    plan_time_limit_s: float = 10.0
    plan_processes: int = 2
    """Processes a ``partsvc worker`` plans a day with (a second search, or areas side by
    side); at most 2, by default the machine's cores up to 2. A web process plans with one."""

    board_refresh_s: float = 15.0
    """How often an open dispatch board fetches its open calls again (new calls, status
    changes) without a reload."""
    same_day_fix_target: float = 0.9
    """R20: the share of on-site faults to fix the day they are reported."""
    satisfaction_target: float = 0.9
    """R25: the share of rated calls the customer was satisfied with (4 or 5 of 5)."""
    redis_url: str | None = None
    """Plans are made by `partsvc worker` processes through this Redis; in process if None."""
    plan_queue: str = "partsvc-plans"
    plan_wait_margin_s: float = 30.0
    """How much longer than the planner's time limit a request waits for a queued plan."""
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    """A username that fails to log in ``login_max_failures`` times within this many
    minutes is locked for as long."""
    log_format: str = "json"
    """``json`` (one object per line, for a log collector) or ``text`` (for a terminal)."""
    proxy_fix: bool = False
    """Trust one proxy's X-Forwarded-For/-Proto/-Host (only behind a proxy that sets them)."""
    login_rate: str = "10/minute"
    """Login attempts per client address and, separately, per username."""
    token_rate: str = "600/minute"  # noqa: S105 - a rate, not a secret
    """API requests per token."""
    token_failure_rate: str = "20/minute"  # noqa: S105 - a rate, not a secret
    """Requests with an unknown, expired or revoked token per client address."""
    metrics_token: str | None = None
    """When set, ``/metrics`` answers only ``Authorization: Bearer <this>``."""
    idempotency_retention_hours: float = 24.0
    """How long an Idempotency-Key's answer is kept for retries; ``partsvc sweep`` deletes
    older ones."""
    db_connect_timeout_s: int = 3
    """PostgreSQL: how long to wait for a connection (psycopg's ``connect_timeout``)."""
    db_statement_timeout_s: float = 30.0
    """PostgreSQL: a statement running longer is cancelled (``statement_timeout``)."""
    renders_per_user: int = 2
    """Documents one user may have rendering at once on a machine; more get 429."""
    renders_per_process: int = 2
    """Documents a process renders at once (threaded servers); more get 503."""
    env: str = "development"
    """``production`` closes ``/metrics`` unless ``metrics_token`` is set."""
    default_locale: str = "zh_CN"
    """The pages' language for a user who chose none and whose browser asks for none we
    have (``zh_CN`` or ``en``)."""
    public_url: str = "http://127.0.0.1:5000"
    """Where customers reach the service: the units' QR labels and tracking links start so."""
    service_hotline: str = ""
    """The service desk's phone number, printed on every unit's label."""
    report_rate: str = "5/10 minutes"
    """Fault reports from the public report page, per client address and, separately, per
    unit label."""
    files_dir: str = ""
    """Where uploaded files (customers' photos) are kept; the instance folder's ``files``
    when empty."""

    @property
    def files_path(self) -> Path:
        return Path(self.files_dir) if self.files_dir else INSTANCE_DIR / "files"

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("PARTSVC_DATABASE_URL") or default_database_url(),
            secret_key=env.get("PARTSVC_SECRET_KEY") or None,
            timezone=env.get("PARTSVC_TIMEZONE", "Asia/Shanghai"),
            sqlite_busy_timeout_s=float(env.get("PARTSVC_SQLITE_BUSY_TIMEOUT_S", "30")),
            db_pool_size=int(env.get("PARTSVC_DB_POOL_SIZE", "10")),
            log_level=env.get("PARTSVC_LOG_LEVEL", "INFO"),
            sla_warning_minutes=int(env.get("PARTSVC_SLA_WARNING_MINUTES", "30")),
            notifier=env.get("PARTSVC_NOTIFIER", "log"),
            smtp_url=env.get("PARTSVC_SMTP_URL") or None,
            smtp_from=env.get("PARTSVC_SMTP_FROM") or "partsvc <noreply@localhost>",
            notify_webhook_url=env.get("PARTSVC_NOTIFY_WEBHOOK_URL") or None,
            notify_webhook_secret=env.get("PARTSVC_NOTIFY_WEBHOOK_SECRET") or None,
            staff_email=env.get("PARTSVC_STAFF_EMAIL") or None,
            staff_phone=env.get("PARTSVC_STAFF_PHONE") or None,
            outbound_timeout_s=float(env.get("PARTSVC_OUTBOUND_TIMEOUT_S", "5")),
            delivery_max_attempts=int(env.get("PARTSVC_DELIVERY_MAX_ATTEMPTS", "8")),
            delivery_backoff_s=float(env.get("PARTSVC_DELIVERY_BACKOFF_S", "30")),
            webhook_allow_private=env.get("PARTSVC_WEBHOOK_ALLOW_PRIVATE", "")
            in {"1", "true", "yes"},
            outbox_queue=env.get("PARTSVC_OUTBOX_QUEUE") or "partsvc-outbox",
            osrm_url=env.get("PARTSVC_OSRM_URL") or None,
            osrm_timeout_s=float(env.get("PARTSVC_OSRM_TIMEOUT_S", "5")),
            road_factor=float(env.get("PARTSVC_ROAD_FACTOR", "1.3")),
            average_speed_kmh=float(env.get("PARTSVC_AVERAGE_SPEED_KMH", "30")),
            plan_time_limit_s=float(env.get("PARTSVC_PLAN_TIME_LIMIT_S", "10")),
            plan_processes=min(
                max(int(env.get("PARTSVC_PLAN_PROCESSES") or default_plan_processes()), 1), 2
            ),
            board_refresh_s=float(env.get("PARTSVC_BOARD_REFRESH_S", "15")),
            same_day_fix_target=float(env.get("PARTSVC_SAME_DAY_FIX_TARGET", "0.9")),
            satisfaction_target=float(env.get("PARTSVC_SATISFACTION_TARGET", "0.9")),
            redis_url=env.get("PARTSVC_REDIS_URL") or None,
            plan_queue=env.get("PARTSVC_PLAN_QUEUE") or "partsvc-plans",
            plan_wait_margin_s=float(env.get("PARTSVC_PLAN_WAIT_MARGIN_S", "30")),
            login_max_failures=int(env.get("PARTSVC_LOGIN_MAX_FAILURES", "5")),
            login_lockout_minutes=int(env.get("PARTSVC_LOGIN_LOCKOUT_MINUTES", "15")),
            log_format=env.get("PARTSVC_LOG_FORMAT", "json"),
            proxy_fix=env.get("PARTSVC_PROXY_FIX", "") in {"1", "true", "yes"},
            login_rate=env.get("PARTSVC_LOGIN_RATE", "10/minute"),
            token_rate=env.get("PARTSVC_TOKEN_RATE", "600/minute"),
            token_failure_rate=env.get("PARTSVC_TOKEN_FAILURE_RATE", "20/minute"),
            metrics_token=env.get("PARTSVC_METRICS_TOKEN") or None,
            idempotency_retention_hours=float(env.get("PARTSVC_IDEMPOTENCY_RETENTION_HOURS", "24")),
            db_connect_timeout_s=int(env.get("PARTSVC_DB_CONNECT_TIMEOUT_S", "3")),
            db_statement_timeout_s=float(env.get("PARTSVC_DB_STATEMENT_TIMEOUT_S", "30")),
            renders_per_user=int(env.get("PARTSVC_RENDERS_PER_USER", "2")),
            renders_per_process=int(env.get("PARTSVC_RENDERS_PER_PROCESS", "2")),
            env=env.get("PARTSVC_ENV") or "development",
            default_locale=env.get("PARTSVC_DEFAULT_LOCALE") or "zh_CN",
            public_url=(env.get("PARTSVC_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
            service_hotline=env.get("PARTSVC_SERVICE_HOTLINE", ""),
            report_rate=env.get("PARTSVC_REPORT_RATE", "5/10 minutes"),
            files_dir=env.get("PARTSVC_FILES_DIR", ""),
        )

    def replace(self, **changes: Any) -> Settings:
        values = {**self.__dict__, **changes}
        return Settings(**values)


def default_plan_processes() -> int:
    """The machine's cores, up to 2: a planning worker's second search needs a second core."""
    return min(os.cpu_count() or 1, 2)
