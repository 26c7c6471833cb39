"""Where reminders go: an adapter reads the outbox and delivers each message.

The service ships a log adapter; a mail or SMS adapter implements ``Notifier`` and is
named by ``PARTSVC_NOTIFIER`` (``log``, the default, is the only one built in).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("partsvc.reminders")


class Notifier(Protocol):
    def send(self, *, recipient: str | None, message: str) -> None:
        """Deliver one message; raise to leave it in the outbox for the next run."""


class LogNotifier:
    """Writes each reminder to the log, for whoever watches it (and for the demo)."""

    def send(self, *, recipient: str | None, message: str) -> None:
        log.info("reminder to %s: %s", recipient or "dispatch", message)


def notifier_named(name: str) -> Notifier:
    if name == "log":
        return LogNotifier()
    raise ValueError(f"unknown notifier {name!r}: the built-in one is 'log'")
