"""``python -m partsvc``: the ``partsvc`` command."""

from partsvc.cli import main

main()
