"""Checkpoints on disk.

* Resumable MD progress (:class:`Checkpoint`): frames recorded so far, their logs and the engine's
  exact state, pickled beside the output; used by :class:`glasscam.md.protocols.Recorder`.
* Model checkpoints are :mod:`glasscam.io.model_checkpoints` (torch is not imported here).
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

from glasscam.core.state import State
from glasscam.io.atomic import atomic_output

log = logging.getLogger(__name__)


class Checkpoint:
    """Resumable progress of one recorded run, kept beside its output as ``.<name>.checkpoint``:
    the frames recorded so far, their logs and the engine's exact state.

    Boundaries fall on every recorded frame and every ``every_steps`` steps (absolute step
    multiples); at each, the file is rewritten when ``min_wall_seconds`` have passed since the
    last write. A checkpoint whose ``fingerprint`` (config hash, seeds, stage) differs from the
    job's, or written in another ``FORMAT`` (engine states that resume differently), is ignored.
    The output itself is only ever written whole, by the caller.
    """

    FORMAT = 2  # 2: engine runs are segments rebuilt from exactly the checkpointed state

    def __init__(self, output: str | os.PathLike, fingerprint: str, every_steps: int, min_wall_seconds: float = 30.0):
        output = Path(output)
        self.path = output.with_name(f".{output.name}.checkpoint")
        self.fingerprint = fingerprint
        self.every_steps = max(1, int(every_steps))
        self.min_wall_seconds = float(min_wall_seconds)
        self._last_write = time.monotonic()

    def load(self) -> dict | None:
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as fh:
                payload = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError) as err:
            log.warning("ignoring unreadable checkpoint %s (%s)", self.path, err)
            return None
        if payload.get("fingerprint") != self.fingerprint:
            log.warning("ignoring checkpoint %s of another configuration", self.path)
            return None
        if payload.get("format") != self.FORMAT:
            log.warning("ignoring checkpoint %s written by another glasscam version (format %s, not %s)",
                        self.path, payload.get("format"), self.FORMAT)
            return None
        log.info("resuming from %s with %d frames recorded", self.path, len(payload["states"]))
        return payload

    def save(self, engine, states: list[State], logs: list[dict], start: int, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_write < self.min_wall_seconds:
            return
        payload = {"fingerprint": self.fingerprint, "format": self.FORMAT, "states": states, "logs": logs, "start": start, "engine": engine.checkpoint()}
        with atomic_output(self.path) as tmp:
            with open(tmp, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._last_write = time.monotonic()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
