"""``python -m dagloop``: the ``dagloop`` command."""

from dagloop.cli import main

main()
