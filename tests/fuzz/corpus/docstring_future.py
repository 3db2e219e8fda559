"""Module docstring must stay first.

time.sleep(1) in a docstring is not code.
"""

from __future__ import annotations

import os
import time

CONSTANT = os.sep


async def run() -> None:
    """Run: time.sleep(2) here is prose."""
    time.sleep(1)
