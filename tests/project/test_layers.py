"""The import contracts catch what they promise to: a domain importing a sibling, and any
module importing a layer above it (docs/ARCHITECTURE.md). Each case copies the package,
adds one import, and runs import-linter on the copy with the project's contracts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / "partsvc"
    shutil.copytree(ROOT / "partsvc", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / Path(*module.split(".")[1:]).with_suffix(".py")
    target.write_text(target.read_text() + f"\n{line}\n")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "imported", "says"),
    [
        # a domain reaching into a sibling of its tier
        ("partsvc.repairs.rules", "partsvc.loans.models", "repairs.rules -> partsvc.loans.models"),
        # the ledger reaching up to the calls built on it
        ("partsvc.inventory.rules", "partsvc.calls.models", "rules -> partsvc.calls.models"),
        # a domain reaching up to the API
        ("partsvc.calls.rules", "partsvc.api.calls", "calls.rules -> partsvc.api.calls"),
        # two modules side by side importing each other
        ("partsvc.routing.problem", "partsvc.routing.screening", "No cycles are allowed"),
        # the product reaching for the benchmark's code
        ("partsvc.routing.solver", "partsvc_bench.solomon", "solver -> partsvc_bench.solomon"),
    ],
)
def test_a_forbidden_import_breaks_the_lint(
    tmp_path: Path, module: str, imported: str, says: str
) -> None:
    answer = _lint_with(tmp_path, module, f"import {imported}")
    assert answer.returncode == 1, answer.stdout
    assert says in answer.stdout.replace("\n", " ")


def test_the_unchanged_copy_passes(tmp_path: Path) -> None:
    answer = _lint_with(tmp_path, "partsvc.core.errors", "")
    assert answer.returncode == 0, answer.stdout
