"""The database's rate-limit counters (used when no Redis is configured)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from partsvc.platform.db import Base


class RateCounter(Base):
    """Hits on one key in its current window; the row is reused when a new window starts."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger)
    """The window's number: its start in seconds since the epoch divided by its length."""
    hits: Mapped[int] = mapped_column(Integer)
