"""The CPU-heavy step of the quote service, in a module worker processes can import.

A process node's function is sent to a worker by reference (module and name), so
it lives in an importable module rather than in the app's entry point.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

#: Rounds of key stretching: enough CPU work to be worth a process of its own.
ROUNDS = 20_000


def sign_quote(quote: dict[str, Any], secret: str, strength: int = 1) -> dict[str, Any]:
    """Sync, CPU-bound (a worker process): the quote with a stretched signature,
    ``strength`` times ``ROUNDS`` rounds."""
    body = json.dumps(quote, sort_keys=True).encode()
    digest = hashlib.pbkdf2_hmac("sha256", body, secret.encode(), ROUNDS * strength)
    return {**quote, "signature": digest.hex(), "signed_in_pid": os.getpid()}
