"""The pages' translation catalogues: extract, update, compile, and check them.

    python tools/translations.py check    # make lint: fail on a message without a
                                          # translation, a fuzzy or stale entry, or a
                                          # compiled catalogue that is not fresh
    python tools/translations.py update   # extract the messages and merge them into
                                          # every catalogue (new ones come untranslated)
    python tools/translations.py compile  # write each messages.mo from its messages.po

The messages are extracted with pybabel (``babel.cfg``) from partsvc/ and templates/, by
the names ``_``, ``gettext``, ``ngettext``, ``pgettext``, ``_l``, ``lazy_gettext`` and
``lazy_pgettext``: a message given to
gettext under another name is not seen (nor checked), so import it by one of these.
English is the source language; each other language has
``partsvc/translations/<locale>/LC_MESSAGES/messages.po`` and its compiled ``messages.mo``,
both committed and both shipped in the wheel (docs/DECISIONS.md).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "partsvc" / "translations"
KEYWORDS = ("_l", "lazy_gettext", "lazy_pgettext:1c,2")  # besides pybabel's own (_, gettext, ...)


def extract(root: Path = ROOT) -> Catalog:
    """Every message of the code and the templates, as pybabel extracts it."""
    with tempfile.TemporaryDirectory() as scratch:
        pot = Path(scratch) / "messages.pot"
        keywords = [arg for word in KEYWORDS for arg in ("-k", word)]
        CommandLineInterface().run(
            [
                "pybabel",
                "-q",
                "extract",
                "-F",
                str(root / "babel.cfg"),
                *keywords,
                "--no-location",
                "--omit-header",
                "-o",
                str(pot),
                str(root),
            ]
        )
        with pot.open("rb") as handle:
            return read_po(handle)


def catalogues(translations: Path = TRANSLATIONS) -> list[Path]:
    return sorted(translations.glob("*/LC_MESSAGES/messages.po"))


def compiled(po_path: Path) -> bytes:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def problems(template: Catalog, po_path: Path) -> list[str]:
    """What is wrong with one catalogue against the extracted messages."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    name = po_path.relative_to(po_path.parents[4])  # partsvc/translations/<locale>/...
    found = []
    wanted = {(_key(message.id), message.context) for message in template if message.id}
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        if entry is None:
            found.append(f"{name}: no translation of {_key(message.id)}")
        elif entry.fuzzy:
            found.append(f"{name}: fuzzy translation of {_key(message.id)}")
        elif not _translated(entry.string):
            found.append(f"{name}: empty translation of {_key(message.id)}")
    for entry in catalog:
        if entry.id and (_key(entry.id), entry.context) not in wanted:
            found.append(f"{name}: stale entry {_key(entry.id)} (no longer used)")
    if catalog.obsolete:
        found.append(f"{name}: {len(catalog.obsolete)} obsolete (#~) entries: remove them")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.is_file() or mo_path.read_bytes() != compiled(po_path):
        found.append(f"{mo_path.name} next to {name} is not compiled from it: run compile")
    return found


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return all(bool(s) for s in string)
    return bool(string)


def _key(message_id: object) -> str:
    return repr(message_id[0] if isinstance(message_id, tuple | list) else message_id)


def check(root: Path = ROOT) -> list[str]:
    template = extract(root)
    found = []
    for po_path in catalogues(root / "partsvc" / "translations"):
        found.extend(problems(template, po_path))
    return found


def update(root: Path = ROOT) -> None:
    template = extract(root)
    for po_path in catalogues(root / "partsvc" / "translations"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parents[1].name)
        created = catalog.creation_date  # a new extraction is no change of the catalogue
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        catalog.obsolete.clear()
        with po_path.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, no_location=True, width=100)


def compile_all(root: Path = ROOT) -> None:
    for po_path in catalogues(root / "partsvc" / "translations"):
        po_path.with_suffix(".mo").write_bytes(compiled(po_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "update", "compile"))
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (for tests)")
    args = parser.parse_args(argv)
    if args.command == "update":
        update(args.root)
        return 0
    if args.command == "compile":
        compile_all(args.root)
        return 0
    found = check(args.root)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} translation problem(s): translate in the .po, then "
            "`python tools/translations.py compile` (docs/GLOSSARY.md has the terms).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
