"""Bounded concurrency for printed documents: rendering a PDF takes a worker's CPU for
long enough that one engineer asking for 64 at once would hold every worker, and the
clerks' requests would queue behind them. A request renders only with a turn: one of
``PARTSVC_RENDERS_PER_PROCESS`` in its process (a threaded server) and one of
``PARTSVC_RENDERS_PER_USER`` slots of its user, shared by every process of the machine
(an OS file lock each, freed by the kernel when a process dies). Without a turn the
answer is at once: 429 (this user has enough renders going) or 503 (this process has),
both with Retry-After (docs/DECISIONS.md, "Documents render a few at a time").
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from flask import current_app, g

from partsvc.core.errors import PartsvcError

RETRY_AFTER_S = 2


class NoRenderTurn(PartsvcError):
    """Too many documents are being rendered for this user, or in this process."""

    status = 429
    slug = "too-many-renders"
    title = "Too many documents at once"


class Renders:
    def __init__(self, *, per_process: int, per_user: int, shared_by: str) -> None:
        self.per_user = per_user
        self._process = threading.BoundedSemaphore(per_process)
        digest = hashlib.sha256(shared_by.encode()).hexdigest()[:16]
        self.folder = Path(tempfile.gettempdir()) / f"partsvc-renders-{digest}"

    @contextmanager
    def turn(self, user_id: int) -> Iterator[None]:
        """Hold a turn to render while the block runs, or raise ``NoRenderTurn``."""
        if not self._process.acquire(blocking=False):
            refused = NoRenderTurn(
                "This server is rendering as many documents as it may at once; "
                f"try again in {RETRY_AFTER_S} seconds.",
                retry_after=RETRY_AFTER_S,
            )
            refused.status = 503
            raise refused
        try:
            slot = self._user_slot(user_id)
            if slot is None:
                raise NoRenderTurn(
                    f"You have {self.per_user} documents rendering already; "
                    f"try again in {RETRY_AFTER_S} seconds.",
                    retry_after=RETRY_AFTER_S,
                )
            try:
                yield
            finally:
                fcntl.flock(slot, fcntl.LOCK_UN)
                slot.close()
        finally:
            self._process.release()

    def _user_slot(self, user_id: int) -> IO[bytes] | None:
        """One of the user's slots, locked; None when all are taken."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        for number in range(self.per_user):
            slot = (self.folder / f"user-{user_id}-{number}.lock").open("a+b")
            try:
                fcntl.flock(slot, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                slot.close()
                continue
            return slot
        return None


def render_turn() -> AbstractContextManager[None]:
    """This request's turn to render, for the user it acts for (``g.user``)."""
    renders: Renders = current_app.extensions["partsvc.renders"]
    return renders.turn(g.user.id)
