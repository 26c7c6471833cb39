"""The wheel carries everything partsvc runs: every package, the templates, the migrations."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from partsvc.platform import resources
from tests import system

ROOT = Path(__file__).resolve().parents[2]


def _folders(top: Path, package: str) -> set[str]:
    return {
        ".".join((package, *folder.relative_to(top).parts)).rstrip(".")
        for folder in [top, *top.rglob("*")]
        if folder.is_dir() and "__pycache__" not in folder.parts
    }


def test_every_folder_of_the_package_templates_and_benchmark_is_listed_for_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {
        "partsvc.templates": "templates",
        "partsvc_bench": "bench/partsvc_bench",
    }
    folders = (
        _folders(ROOT / "partsvc", "partsvc")
        | _folders(ROOT / "templates", "partsvc.templates")
        | _folders(ROOT / "bench" / "partsvc_bench", "partsvc_bench")
    )
    assert set(setuptools["packages"]) == folders


def test_templates_static_files_and_migrations_are_found_through_the_package() -> None:
    assert (resources.TEMPLATES / "base.html").is_file()
    assert (resources.TEMPLATES / "documents" / "service_record.html").is_file()
    assert (resources.STATIC / "favicon.ico").is_file()
    assert (resources.MIGRATIONS / "env.py").is_file()
    assert resources.MIGRATIONS.parent == resources.PACKAGE


@pytest.mark.parametrize(
    ("absent", "browser", "redis", "named"),
    [
        ("chromium", True, False, ["chromium"]),
        ("chromium", False, False, []),
        ("redis-server", False, True, ["redis-server"]),
        ("redis-server", True, False, []),
        ("fonts", False, False, ["fontconfig", "fonts-noto-cjk"]),
        ("pango", False, False, ["libpango-1.0-0", "libpangoft2-1.0-0"]),
    ],
)
def test_a_missing_program_is_named_by_its_debian_package(
    monkeypatch: pytest.MonkeyPatch, absent: str, browser: bool, redis: bool, named: list[str]
) -> None:
    if absent == "chromium":
        monkeypatch.setattr(system, "CHROMIUM", "/nowhere/chromium")
    if absent == "redis-server":
        real = system.shutil.which
        monkeypatch.setattr(
            system.shutil, "which", lambda name: None if name == "redis-server" else real(name)
        )
    if absent == "fonts":
        monkeypatch.setattr(system, "_has_cjk_font", lambda: False)
    if absent == "pango":
        real_find = system.ctypes.util.find_library
        monkeypatch.setattr(
            system.ctypes.util,
            "find_library",
            lambda name: None if name.startswith("pango") else real_find(name),
        )
    assert system.missing_packages(browser=browser, redis=redis) == named
