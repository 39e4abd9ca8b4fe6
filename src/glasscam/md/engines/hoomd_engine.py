"""HOOMD-blue backend (v4/v5 API; GPU when one is visible, else CPU).

Hamiltonian mapping (see :mod:`glasscam.core.systems`):

* ``lennard_jones`` + ``shift`` → ``hoomd.md.pair.LJ(mode="shift")``
* everything else → ``hoomd.md.pair.Table`` of the reference energy and force
  (:func:`glasscam.core.hamiltonian.shifted_pair`) on ``TABLE_POINTS`` points from ``TABLE_R_MIN`` σ_ab
  to r_c, linearly interpolated by HOOMD. Native styles do not fit: ``ForceShiftedLJ`` accepts
  only ``mode="none"`` (its energy does not vanish at r_c) and ``Mie`` with m = 0 (the r^-n
  soft sphere) evaluates (n/m)^{m/(n−m)} to NaN.

Thermostats: Nosé–Hoover = ``ConstantVolume`` + ``thermostats.MTTK``, Bussi =
``ConstantVolume`` + ``thermostats.Bussi``; a temperature ramp is a ``hoomd.variant.Ramp``.

The pair force (with its neighbour list and, for tables, the ``TABLE_POINTS`` samples) is built
once per engine and moved between integrators and simulations. :meth:`load` writes positions,
images, velocities, types and masses into the existing simulation with ``State.set_snapshot``
and rebuilds the integration method (thermostat variables start from zero). HOOMD fixes the
step counter at state creation, so a state at another step is kept as an offset (the logical
step = HOOMD's + offset): :meth:`evaluate`, :meth:`minimize` and :meth:`state` need nothing
more (Bussi noise and ramps are functions of HOOMD's step).

Exact resumption: every :meth:`run` is a segment that starts in a new ``Simulation`` built
from the particles' raw snapshot arrays, the logical step, the seed and the MTTK variables (ξ,
η) — exactly what :meth:`checkpoint` stores and :meth:`restore` builds from. A simulation that
ran on has its particles in another memory order (HOOMD sorts them every 200 steps) and a
neighbour list built steps earlier, so its force sums round differently from a fresh one; a
resumed run would drift from the uninterrupted one by rounding first and then, the dynamics
being chaotic, in full. Bussi noise is counter-based (seed, step) and needs no state.
"""

from __future__ import annotations

import hoomd
import hoomd.md
import numpy as np

from glasscam.core.hamiltonian import PairEvaluation, shifted_pair
from glasscam.core.state import State
from glasscam.core.systems import System
from glasscam.md.engines.base import Engine, Thermostat

NEIGHBOR_BUFFER = 0.4  # σ; fastest of 0.2–0.5 in a scan of KA 3D, N = 1000, on this CPU build
TABLE_POINTS = 50001
TABLE_R_MIN = 0.3  # σ_ab; the table is zero below it, where V ≥ 10^6 ε for every catalogue system


def _device():
    try:
        return hoomd.device.GPU()
    except (RuntimeError, AttributeError):
        return hoomd.device.CPU()


class HoomdEngine(Engine):
    name = "hoomd"

    def __init__(self, system: System, threads: int = 1):
        super().__init__(system, threads)
        self._device = _device()
        self._sim: hoomd.Simulation | None = None
        self._thermostat: Thermostat | None = None
        self._force: hoomd.md.force.Force | None = None  # built once, see _pair_force
        self._offset = 0  # logical step − HOOMD's timestep, after a load at another step
        self._fresh = False  # the simulation was built by _rebuild and has not changed since

    @property
    def version(self) -> str:
        return hoomd.version.version

    @property
    def device(self) -> str:
        if isinstance(self._device, hoomd.device.GPU):
            return f"GPU ({', '.join(self._device.devices)})"
        return "CPU"

    # --- forces ----------------------------------------------------------------------------
    def _pair_force(self) -> hoomd.md.force.Force:
        """The engine's pair force, built on first use; detached from any integrator it was in."""
        if self._force is None:
            self._force = self._build_pair_force()
        sim = self._sim
        integrator = sim.operations.integrator if sim is not None else None
        if integrator is not None and self._force in integrator.forces:
            integrator.forces.remove(self._force)
        return self._force

    def _build_pair_force(self) -> hoomd.md.force.Force:
        s = self.system
        nlist = hoomd.md.nlist.Cell(buffer=NEIGHBOR_BUFFER)
        if s.form == "lennard_jones" and s.cutoff_mode == "shift":
            force = hoomd.md.pair.LJ(nlist=nlist, mode="shift")
            for (a, b), p in s.pairs.items():
                force.params[(a, b)] = dict(epsilon=p.epsilon, sigma=p.sigma)
                force.r_cut[(a, b)] = p.r_cut
        else:
            force = hoomd.md.pair.Table(nlist=nlist)
            for (a, b), p in s.pairs.items():
                r_min = TABLE_R_MIN * p.sigma
                r = np.linspace(r_min, p.r_cut, TABLE_POINTS)[:-1]  # HOOMD: r_i = r_min + i Δr
                energy, fmag = shifted_pair(s, a, b, r)
                force.params[(a, b)] = dict(r_min=r_min, U=energy, F=fmag)
                force.r_cut[(a, b)] = p.r_cut
        return force

    def _method(self, thermostat: Thermostat | None, ramp_steps: int = 0):
        """ConstantVolume with the thermostat; a ramp T_start → T_end spans the next
        ``ramp_steps`` steps (until then the target is T_start)."""
        if thermostat is None:
            return hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())
        t0, t1 = thermostat.ramp
        kT = t0
        if t0 != t1 and ramp_steps > 0:
            kT = hoomd.variant.Ramp(A=t0, B=t1, t_start=self._sim.timestep, t_ramp=int(ramp_steps))
        cls = hoomd.md.methods.thermostats.MTTK if thermostat.kind == "nose_hoover" else hoomd.md.methods.thermostats.Bussi
        return hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All(), thermostat=cls(kT=kT, tau=thermostat.tau))

    def _set_integrator(self, method) -> None:
        """``method`` in the simulation's MD integrator, which holds the engine's pair force (a
        new integrator only when the last one was FIRE's: the force and its neighbour list stay
        attached otherwise)."""
        integrator = self._sim.operations.integrator
        if type(integrator) is hoomd.md.Integrator and self._force is not None and self._force in integrator.forces:
            integrator.methods.clear()
            integrator.methods.append(method)
            return
        force = self._pair_force()
        self._sim.operations.integrator = hoomd.md.Integrator(dt=self.system.dt, methods=[method], forces=[force])

    # --- state ---------------------------------------------------------------------------
    def load(self, state: State) -> None:
        s = self.system
        if len(state.positions) != s.n_particles:
            raise ValueError(f"state has {len(state.positions)} particles, system {s.name} has {s.n_particles}")
        seed = (self._thermostat.seed if self._thermostat is not None else 1) % 65536
        in_place = self._sim is not None
        snap = self._sim.state.get_snapshot() if in_place else hoomd.Snapshot(self._device.communicator)
        if snap.communicator.rank == 0:
            if not in_place:
                L = s.box_length
                snap.configuration.box = [L, L, L if s.dimensions == 3 else 0.0, 0, 0, 0]
                snap.particles.N = s.n_particles
                snap.particles.types = list(s.types)
            snap.particles.typeid[:] = state.typeid
            snap.particles.mass[:] = state.masses
            positions = state.positions.copy()
            velocities = state.velocities.copy()
            if s.dimensions == 2:
                positions[:, 2] = 0.0
                velocities[:, 2] = 0.0
            snap.particles.position[:] = positions
            snap.particles.image[:] = state.images
            snap.particles.velocity[:] = velocities
        if in_place:
            self._sim.state.set_snapshot(snap)
            self._sim.seed = seed
            self._offset = int(state.step) - int(self._sim.timestep)
        else:
            force = self._pair_force()  # detached from the old simulation's integrator
            self._sim = hoomd.Simulation(device=self._device, seed=seed)
            self._sim.timestep = int(state.step)
            self._sim.create_state_from_snapshot(snap)
            self._sim.operations.integrator = hoomd.md.Integrator(dt=s.dt, forces=[force])
            self._offset = 0
        self._step0, self._time0 = int(state.step), float(state.time)
        self._set_integrator(self._method(self._thermostat))
        self._fresh = False

    def _particles(self) -> dict:
        """The particles' snapshot arrays as HOOMD holds them (positions in the box, images,
        velocities, types, masses; double precision), copied."""
        p = self._sim.state.get_snapshot().particles
        return {key: np.array(getattr(p, key), copy=True) for key in ("position", "image", "velocity", "typeid", "mass")}

    def _thermostat_dof(self) -> tuple[float, float] | None:
        """The MTTK thermostat's (ξ, η), or None for other methods."""
        integrator = self._sim.operations.integrator
        method = integrator.methods[0] if isinstance(integrator, hoomd.md.Integrator) and integrator.methods else None
        if isinstance(getattr(method, "thermostat", None), hoomd.md.methods.thermostats.MTTK):
            return tuple(float(x) for x in method.thermostat.translational_dof)
        return None

    def _rebuild(self, particles: dict, step: int, seed: int, thermostat_dof, ramp_steps: int = 0) -> None:
        """A new ``Simulation`` at logical ``step`` from raw snapshot arrays, the engine's pair
        force and thermostat (MTTK variables set to ``thermostat_dof``): the one state from
        which both an uninterrupted and a resumed run continue."""
        s = self.system
        force = self._pair_force()  # detached from the old simulation's integrator
        snap = hoomd.Snapshot(self._device.communicator)
        if snap.communicator.rank == 0:
            L = s.box_length
            snap.configuration.box = [L, L, L if s.dimensions == 3 else 0.0, 0, 0, 0]
            snap.particles.N = s.n_particles
            snap.particles.types = list(s.types)
            for key, values in particles.items():
                getattr(snap.particles, key)[:] = values
        self._sim = hoomd.Simulation(device=self._device, seed=int(seed))
        self._sim.timestep = int(step)
        self._sim.create_state_from_snapshot(snap)
        self._sim.operations.integrator = hoomd.md.Integrator(dt=s.dt, forces=[force])
        self._offset = 0
        self._set_integrator(self._method(self._thermostat, ramp_steps))
        if thermostat_dof is not None:
            self._sim.operations.integrator.methods[0].thermostat.translational_dof = tuple(thermostat_dof)
        self._fresh = True

    def state(self) -> State:
        snap = self._sim.state.get_snapshot()
        unwrapped = np.asarray(snap.particles.position, dtype=np.float64) + np.asarray(
            snap.particles.image, dtype=np.float64
        ) * self.system.box_length
        return self._make_state(
            unwrapped,
            np.asarray(snap.particles.velocity, dtype=np.float64).copy(),
            np.asarray(snap.particles.typeid, dtype=np.int64),
            np.asarray(snap.particles.mass, dtype=np.float64).copy(),
            int(self._sim.timestep) + self._offset,
        )

    # --- dynamics ------------------------------------------------------------------------
    def set_thermostat(self, thermostat: Thermostat | None) -> None:
        self._thermostat = thermostat
        if self._sim is None:
            return
        if thermostat is not None:
            self._sim.seed = thermostat.seed % 65536
        self._set_integrator(self._method(thermostat))
        self._fresh = False

    def current_step(self) -> int | None:
        return int(self._sim.timestep) + self._offset if self._sim is not None else None

    def run(self, steps: int) -> None:
        """Advance ``steps`` steps as one segment, in a new ``Simulation`` unless the current one
        was just built from a checkpoint's data (see the module notes); a temperature ramp spans
        the segment."""
        if steps <= 0:
            return
        t = self._thermostat
        ramp = int(steps) if t is not None and t.ramp[0] != t.ramp[1] else 0
        if not self._fresh or ramp:
            self._rebuild(self._particles(), self.current_step(), int(self._sim.seed), self._thermostat_dof(), ramp)
        self._fresh = False
        try:
            self._sim.run(int(steps))
        except RuntimeError as err:  # e.g. "Particle … is no longer in the simulation box"
            raise self.blow_up(f"HOOMD-blue stopped during a run of {int(steps)} steps", "MD run", err) from err

    def minimize(self, force_tolerance: float, max_steps: int) -> bool:
        fire = hoomd.md.minimize.FIRE(
            dt=self.system.dt,
            force_tol=force_tolerance,
            angmom_tol=1.0,
            energy_tol=1e-10,
            methods=[hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())],
        )
        fire.forces.append(self._pair_force())
        self._sim.operations.integrator = fire
        done = 0
        while not fire.converged and done < max_steps:
            try:
                self._sim.run(100)
            except RuntimeError as err:
                raise self.blow_up("HOOMD-blue stopped during FIRE minimization", "FIRE minimization", err) from err
            done += 100
        converged = bool(fire.converged)
        snap = self._sim.state.get_snapshot()
        if snap.communicator.rank == 0:
            snap.particles.velocity[:] = 0.0
        self._sim.state.set_snapshot(snap)
        self._set_integrator(self._method(self._thermostat))
        self._fresh = False
        return converged

    def checkpoint(self) -> dict:
        """The particles' raw snapshot arrays (double precision, as HOOMD holds them: not
        unwrapped and re-wrapped, which rounds), the logical step, the seed and the MTTK
        thermostat's (ξ, η); Bussi noise is counter-based (seed, step, particle) and needs no
        state."""
        return {
            "engine": self.name,
            "particles": self._particles(),
            "step": self.current_step(),
            "seed": int(self._sim.seed),
            "step0": self._step0,
            "time0": self._time0,
            "thermostat": self._thermostat,
            "thermostat_dof": self._thermostat_dof(),
        }

    def restore(self, checkpoint: dict) -> None:
        self._thermostat = checkpoint["thermostat"]
        self._rebuild(checkpoint["particles"], checkpoint["step"], checkpoint["seed"], checkpoint["thermostat_dof"])
        self._step0, self._time0 = checkpoint["step0"], checkpoint["time0"]

    def evaluate(self) -> PairEvaluation:
        s = self.system
        force = self._force
        self._sim.always_compute_pressure = True  # HOOMD computes virials only on request
        self._sim.run(0)
        energies = np.asarray(force.energies, dtype=np.float64).copy()
        forces = np.asarray(force.forces, dtype=np.float64).copy()
        virials = np.asarray(force.virials, dtype=np.float64).copy()
        self._sim.always_compute_pressure = False
        self._fresh = False  # forces and neighbour list of this simulation are computed now
        # per-particle virial tensor (xx, xy, xz, yy, yz, zz); W = Σ_i tr(virial_i)
        trace = virials[:, 0] + virials[:, 3] + (virials[:, 5] if s.dimensions == 3 else 0.0)
        return PairEvaluation(energies=energies, forces=forces, virial=float(trace.sum()))

    def close(self) -> None:
        self._sim = None
        self._force = None
