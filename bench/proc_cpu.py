"""CPU seconds of processes, read from /proc: the PostgreSQL backends serving a database
(their titles name it: ``postgres: postgres bench_ledger 127.0.0.1(…) idle``), and a
process with its children (a gunicorn master and its workers)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Each process's id and the fields of its /proc stat after the command name."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(entry.name), fields


def _title(pid: int) -> list[bytes]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return []


def _cpu(chosen: Callable[[int, list[str]], bool]) -> float:
    """User plus system CPU seconds of the processes ``chosen`` picks."""
    ticks = sum(int(f[11]) + int(f[12]) for pid, f in _processes() if chosen(pid, f))
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(databases: set[str]) -> float:
    """CPU seconds of the PostgreSQL backends serving these databases; backends that
    ended meanwhile are not counted, so keep the pools open across a measurement."""
    names = {name.encode() for name in databases if name}
    if not names:
        return 0.0

    def serving(pid: int, _: list[str]) -> bool:
        title = _title(pid)  # "postgres: [cluster:] user database host(port) state"
        return bool(title) and title[0] == b"postgres:" and bool(names & set(title[2:5]))

    return _cpu(serving)


def tree_cpu(pid: int) -> float:
    """CPU seconds used by a process and its children."""
    return _cpu(lambda each, fields: each == pid or int(fields[1]) == pid)


def children(pid: int) -> list[int]:
    """The ids of a process's children."""
    return [each for each, fields in _processes() if int(fields[1]) == pid]
