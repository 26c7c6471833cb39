"""What every benchmark that sends requests does with the answers: any answer but the
one expected is a failure, and a run with a failure measures nothing.

    answers = Answers()
    answers.check("GET /desk", response.status_code, 200)
    ...
    sys.exit(answers.verdict())   # prints VOID and returns 1 on any failure

``show_settings`` prints the settings a run used, so a figure says what it measured.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def show_settings(**settings: Any) -> None:
    print("settings: " + ", ".join(f"{name}={value}" for name, value in settings.items()))


class Answers:
    def __init__(self) -> None:
        self.total = 0
        self.failures: Counter[str] = Counter()
        self.samples: dict[str, str] = {}

    def check(self, label: str, status: int, expected: int, body: object = "") -> bool:
        """Count one answer; False (and a failure) unless it is ``expected``."""
        self.total += 1
        if status == expected:
            return True
        key = f"{label}: {status} (expected {expected})"
        self.failures[key] += 1
        self.samples.setdefault(key, str(body)[:300])
        return False

    def verdict(self) -> int:
        """0 if every answer was the one expected; else print VOID and return 1."""
        failed = sum(self.failures.values())
        if not failed:
            print(f"all {self.total} answers as expected")
            return 0
        print(f"VOID: {failed} of {self.total} answers were not the expected status:")
        for key, count in self.failures.most_common():
            print(f"  {count} × {key}: {self.samples[key]}")
        return 1
