"""``python -m dagloop._workers [LIFELINE_FD]``: serve process nodes (see ``child``)."""

from __future__ import annotations

import sys

from dagloop._workers.child import main

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
