"""Where the package's own files are, found through the package: the same code serves a
wheel in site-packages and a developer's checkout (an editable install)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
STATIC = PACKAGE / "static"
MIGRATIONS = PACKAGE / "migrations"
TRANSLATIONS = PACKAGE / "translations"
"""The gettext catalogues of the pages: ``<locale>/LC_MESSAGES/messages.po`` and its .mo."""
# templates/ sits at the top of the repository and ships as the package partsvc.templates
# (pyproject.toml maps it; docs/DECISIONS.md says why).
TEMPLATES = Path(str(files("partsvc.templates")))
