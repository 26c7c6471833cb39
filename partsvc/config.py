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
        )

    def replace(self, **changes: Any) -> Settings:
        values = {**self.__dict__, **changes}
        return Settings(**values)
