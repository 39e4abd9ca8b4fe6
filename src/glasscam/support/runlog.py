"""Logging for pipeline jobs: stderr (progress bars, warnings, tracebacks) and ``logging`` go to
the rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def redirect_to_log(path: str) -> None:
    """Send stderr and the root logger (level INFO) to ``path``, line-buffered."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "w", buffering=1)
    sys.stderr = stream
    logging.basicConfig(
        stream=stream, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s", force=True
    )
