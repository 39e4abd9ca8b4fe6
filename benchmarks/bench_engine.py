"""Engine state I/O: ``load`` + ``evaluate`` of one configuration, and the initialization that
calls them hundreds of times (capped-displacement overlap removal, then FIRE), per engine.

Cases: abm2d (force-shifted LJ: a HOOMD-blue ``Table``) and ka3d (shifted LJ: HOOMD's native
``LJ``) at the demo size (N = 512 / 500) and the paper size (N = 4096); LAMMPS at 1 thread and
HOOMD-blue where importable. Two kinds of load: *same step* (the state's step equals the
engine's, as in every iteration of the overlap removal: HOOMD updates its simulation in place)
and *new step* (stored frames at different steps, as when frames are evaluated one after
another). Initialization = ``protocols.remove_overlaps`` from ``protocols.lattice_state`` as
``protocols.melt`` runs it (up to 500 load + evaluate), abm2d at N = 4096; the FIRE that follows
does not load and is timed by neither.
"""

from __future__ import annotations

import statistics
import time

from bench_common import summary, system_spec

from glasscam.core.seeds import rng
from glasscam.core.systems import system_from_config
from glasscam.md import protocols
from glasscam.md.engines import create_engine, hoomd_available

CASES = [("abm2d", 512), ("ka3d", 500), ("abm2d", 4096), ("ka3d", 4096)]
QUICK_CASES = [("abm2d", 512), ("abm2d", 4096)]
LOADS = 20  # load + evaluate pairs per repeat

def _states(system, count: int):
    """``count`` distinct overlap-free configurations (jittered lattices, different seeds)."""
    out = []
    for k in range(count):
        state = protocols.lattice_state(system, rng(20261129, "bench_engine", system.name, k), jitter=0.1)
        out.append(state)
    return out

def load_evaluate(engine, states, same_step: bool) -> float:
    """Median seconds of one load + evaluate over ``states`` (all at step 0, or at steps 1000,
    2000 …): each pair is timed alone, so a shared machine's occasional preemption does not
    inflate the figure."""
    engine.load(states[0])
    engine.evaluate()  # warm-up: first attach, tables, neighbour list
    times = []
    for k, state in enumerate(states):
        state.step = 0 if same_step else 1000 * (k + 1)
        t0 = time.perf_counter()
        engine.load(state)
        engine.evaluate()
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times))


def initialization(engine_name: str, system) -> dict:
    """Wall time of the overlap removal from a jittered lattice, and its number of loads."""
    with create_engine(engine_name, system, 1) as engine:
        loads = {"n": 0}
        original = engine.load

        def counting_load(state):
            loads["n"] += 1
            original(state)

        engine.load = counting_load
        t0 = time.perf_counter()
        protocols.remove_overlaps(engine, protocols.lattice_state(system, rng(20261129, "bench_init", system.name)))
        seconds = time.perf_counter() - t0
    return {"remove_overlaps_s": seconds, "loads": loads["n"]}


def run(paper: dict, quick: bool, repeats: int, log) -> dict:
    engines = ["lammps"] + (["hoomd"] if hoomd_available() else [])
    skipped = {} if hoomd_available() else {"hoomd": "import hoomd failed in this interpreter"}
    rows = []
    for name, n in (QUICK_CASES if quick else CASES):
        system = system_from_config(name, system_spec(paper, name, n))
        states = _states(system, LOADS)
        for engine_name in engines:
            row = {"engine": engine_name, "system": name, "N": system.n_particles}
            for same_step in (True, False):
                times = []
                for _ in range(repeats):
                    with create_engine(engine_name, system, 1) as engine:
                        times.append(load_evaluate(engine, [s.copy() for s in states], same_step))
                row["same_step" if same_step else "new_step"] = summary(times)
            rows.append(row)
            log(f"  {engine_name} {name} N={system.n_particles}: load+evaluate "
                f"{row['same_step']['median'] * 1e3:.2f} ms (same step), {row['new_step']['median'] * 1e3:.2f} ms (new step)")
    init_system = system_from_config("abm2d", system_spec(paper, "abm2d", 4096))
    init = {}
    for engine_name in engines:
        runs = [initialization(engine_name, init_system) for _ in range(1 if quick else max(1, repeats - 1))]
        init[engine_name] = {"remove_overlaps_s": summary([r["remove_overlaps_s"] for r in runs]),
                             "loads": runs[0]["loads"]}
        log(f"  {engine_name} abm2d N=4096 initialization: overlap removal "
            f"{init[engine_name]['remove_overlaps_s']['median']:.2f} s ({runs[0]['loads']} loads)")
    ratios = {}
    if "hoomd" in engines:
        for row in rows:
            if row["engine"] != "hoomd":
                continue
            ref = next(r for r in rows if r["engine"] == "lammps" and r["system"] == row["system"] and r["N"] == row["N"])
            for kind in ("same_step", "new_step"):
                ratios[f"{row['system']}_N{row['N']}_{kind}"] = row[kind]["median"] / ref[kind]["median"]
    return {
        "description": __doc__.strip().split("\n\n")[0].replace("\n", " "),
        "rows": rows,
        "initialization_abm2d_N4096": init,
        "hoomd_over_lammps_load_evaluate": ratios,
        "skipped": skipped,
        "target": "(none: recorded to compare HOOMD-blue with LAMMPS and runs with runs)",
        "pass": None,
    }
