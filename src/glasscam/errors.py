"""Every exception glasscam raises on purpose; each message names the key, file, frame or value and the remedy."""

class TrajectoryError(RuntimeError):
    """A GSD file that cannot be used, with the file named in the message."""


class DamagedFile(TrajectoryError):
    """An output file that exists but cannot be read (truncated, corrupt); the message names it and
    says to delete it so that Snakemake remakes it."""


class ReaderError(TrajectoryError):
    """A file the pipeline cannot represent or read correctly; the message names the file, the
    frame and the problem."""


class SimulationBlowUp(RuntimeError):
    """The integration produced NaN/inf, an energy explosion, or lost particles.

    The message is the pipeline's own: system, stage (the rule), phase (melt, FIRE, a recorded
    run), step, time, dt, what went wrong and a hint; the engine's own text, if any, follows.
    Built by :meth:`Engine.blow_up`; ``SimulationBlowUp(reason)`` alone also works.
    """

    def __init__(self, reason: str, *, system: str | None = None, stage: str | None = None, phase: str | None = None,
                 step: int | None = None, time: float | None = None, dt: float | None = None,
                 hint: str | None = None, engine_text: str | None = None):
        self.reason, self.system, self.stage, self.phase = reason, system, stage, phase
        self.step, self.time, self.dt, self.hint, self.engine_text = step, time, dt, hint, engine_text
        super().__init__(self._message())

    def _message(self) -> str:
        if self.stage is None and self.step is None and self.dt is None:
            return self.reason
        where = f"stage {self.stage}" + (f", {self.phase}" if self.phase else "")
        who = f"system {self.system}, " if self.system else ""
        at = []
        if self.step is not None:
            at.append(f"detected at step {self.step}")
        if self.time is not None:
            at.append(f"t = {self.time:.6g} τ")
        if self.dt is not None:
            at.append(f"dt = {self.dt:g} τ")
        text = f"simulation blew up in {who}{where}, {', '.join(at)}: {self.reason}"
        if self.hint:
            text += f". Hint: {self.hint}"
        if self.engine_text:
            text += f". Engine message: {' '.join(self.engine_text.split())}"
        return text


class ConfigError(ValueError):
    """Invalid configuration; the message names the offending key."""
