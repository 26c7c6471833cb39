"""The catalogues are kept complete by the build: `make lint` runs
``tools/translations.py check``, which fails on a message with no zh_CN translation, a fuzzy
or stale entry, or a compiled catalogue that is not fresh."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("translations", ROOT / "tools" / "translations.py")
assert _spec and _spec.loader
translations = importlib.util.module_from_spec(_spec)
sys.modules["translations"] = translations
_spec.loader.exec_module(translations)

PO = Path("partsvc/translations/zh_Hans_CN/LC_MESSAGES/messages.po")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the check reads: the code, the templates, the catalogues."""
    root = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "partsvc", root / "partsvc", ignore=ignore)
    shutil.copytree(ROOT / "templates", root / "templates", ignore=ignore)
    shutil.copy(ROOT / "babel.cfg", root / "babel.cfg")
    return root


@pytest.fixture
def fresh(checkout: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(checkout, root, symlinks=True)
    return root


def test_the_catalogues_of_this_checkout_are_complete_and_fresh() -> None:
    assert translations.check(ROOT) == []


def test_an_untranslated_message_in_a_template_fails_the_check(fresh: Path) -> None:
    page = fresh / "templates" / "desk" / "home.html"
    page.write_text(page.read_text() + "{{ _('A word nobody translated') }}\n")
    found = translations.check(fresh)
    assert found == [f"{PO}: no translation of 'A word nobody translated'"]
    assert translations.main(["check", "--root", str(fresh)]) == 1


def test_an_untranslated_message_in_the_code_fails_the_check(fresh: Path) -> None:
    module = fresh / "partsvc" / "web" / "manager.py"
    module.write_text(module.read_text() + "\nLABEL = _l('Another new word')\n")
    assert translations.check(fresh) == [f"{PO}: no translation of 'Another new word'"]


def _edit_po(root: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = root / PO
    with path.open("rb") as handle:
        catalog = read_po(handle)
    change(catalog)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    translations.compile_all(root)


def test_a_fuzzy_entry_fails_the_check(fresh: Path) -> None:
    _edit_po(fresh, lambda catalog: catalog["Log in"].flags.add("fuzzy"))
    assert translations.check(fresh) == [f"{PO}: fuzzy translation of 'Log in'"]


def test_a_stale_entry_fails_the_check(fresh: Path) -> None:
    _edit_po(fresh, lambda catalog: catalog.add("A word no page uses", "没人用的词"))
    assert translations.check(fresh) == [
        f"{PO}: stale entry 'A word no page uses' (no longer used)"
    ]


def test_a_catalogue_not_compiled_again_fails_the_check(fresh: Path) -> None:
    _edit_po(fresh, lambda catalog: None)
    path = fresh / PO
    path.write_text(path.read_text().replace('msgstr "登录"', 'msgstr "登入"', 1))
    assert translations.check(fresh) == [
        f"messages.mo next to {PO} is not compiled from it: run compile"
    ]
