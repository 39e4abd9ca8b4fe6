"""Soft-sphere (ss3d / ss2d) aging pilot with glasscam's own stage functions (LAMMPS backend, 1 thread),
at the demo's sizes (N = 500 in 3D, 512 in 2D, 50:50).
usage: python pilot.py SYSTEM RUN TG[,TG...] — melt (glasscam.stages.simulate.initialize, MELT τ at the
system's melt temperature), liquid EQ τ at T_L = the system's quench_from, instantaneous quench to each
T_G, REPL aging replicas of DUR τ (FPD frames per decade); thermostat time constant TAU (τ, default
config.yaml's protocol.thermostat.tau). Per replica: the fraction of A particles with |Δr| > 0.5 σ_AA
(the pipeline's threshold, σ = σ_AA = 1 here) and the A MSD in the ≈ 30 τ after the frames nearest
t_w = 0, 10, 30, 60 τ; T_kin and the potential energy per particle per frame (for
glasscam.core.tasks.kinetic_relaxation_time and for the heat the aging releases).
Writes OUT/pilot_<system>_<run>_T<TL>_<TG>_tau<TAU>.json; summarize.py makes pilot.csv."""
import copy
import json
import os
import sys
import time

import numpy as np

from glasscam.analysis.displacement import window_displacement
from glasscam.config.load import load_yaml, protocol_for
from glasscam.core.keys import POTENTIAL_ENERGY_KEY
from glasscam.io.gsd import read_logs, read_states
from glasscam.md.protocols import kinetic_temperature
from glasscam.stages import simulate

name = sys.argv[1]; run = int(sys.argv[2]); tgs = [float(x) for x in sys.argv[3].split(",")]
out = os.environ.get("OUT", f"/work/pilot_ss/{name}"); os.makedirs(out, exist_ok=True)
cfg = load_yaml(os.environ.get("GLASSCAM_CFG", "config.yaml"))  # YAML 1.2 numbers, as the pipeline reads them
sysc = copy.deepcopy(cfg["systems"][name])
N = int(os.environ.get("N", "500" if sysc["dimensions"] == 3 else "512"))
sysc["N"] = N; sysc["composition"] = {"A": N // 2, "B": N - N // 2}
sysc.pop("protocol", None)
prot = protocol_for(cfg, name)
TAU = float(os.environ.get("TAU", prot["thermostat"]["tau"]))
prot["thermostat"] = {**prot["thermostat"], "tau": TAU}
prot.update(melt_time=float(os.environ.get("MELT", "5")), equilibration_time=float(os.environ.get("EQ", "20")),
            liquid_samples=1, sample_interval=1.0)
prot["aging"] = {"duration": float(os.environ.get("DUR", "100")), "frames_per_decade": int(os.environ.get("FPD", "10")),
                 "replicas": 2}
prot["liquid_dynamics"] = {"runs": 1, "duration": 20, "frames_per_decade": 6}
seed = cfg["seed"]; TL = float(os.environ.get("TL", sysc["state_points"]["quench_from"]))
REPL = int(os.environ.get("REPL", "2"))
common = {"system_name": name, "protocol_cfg": prot, "root_seed": seed, "run": run, "engine_name": "lammps", "threads": 1}
t0 = time.time()
init = f"{out}/init_{run}.gsd"
if not os.path.exists(init):
    simulate.initialize(system_cfg=sysc, output=init, **common)
liq = f"{out}/liquid_{run}_T{TL:g}.gsd"
if not os.path.exists(liq):
    simulate.equilibrate_liquid(system_cfg=sysc, temperature=TL, initial=init, output=liq, **common)
print("liquid ready", round(time.time() - t0, 1), flush=True)
sig_a = 1.0  # σ_AA of both soft-sphere systems
for tg in tgs:
    s = copy.deepcopy(sysc); s["state_points"]["glass_temperature"] = tg
    tag = f"{run}_T{TL:g}_{tg:g}_tau{TAU:g}"
    q = f"{out}/quench_{tag}.gsd"
    if not os.path.exists(q):
        simulate.quench(system_cfg=s, liquid=liq, output=q, **common)
    res = []
    for r in range(REPL):
        a = f"{out}/aging_{tag}_{r}.gsd"
        t1 = time.time()
        if not os.path.exists(a):
            simulate.age(system_cfg=s, replica=r, quenched=q, output=a, **common)
        st = read_states(a); times = np.array([x.time for x in st])
        amask = st[0].typeid == 0
        row = {"system": name, "N": N, "run": run, "replica": r, "T_L": TL, "T_G": tg, "tau_T": TAU,
               "wall_s": round(time.time() - t1, 1)}
        for tw in (0, 10, 30, 60):
            i = int(np.argmin(abs(times - tw))); j = int(np.argmin(abs(times - (times[i] + 30))))
            if times[i] + 30 > times[-1] + 1e-9:
                continue
            d = np.linalg.norm(window_displacement(st[i], st[j]), axis=1)[amask]
            row[f"tw{tw}"] = [float(times[i]), float(times[j] - times[i]), float(np.mean(d > 0.5 * sig_a)),
                              float(np.mean(d**2))]
        row["times"] = times.tolist()
        row["Tkin"] = [kinetic_temperature(x.velocities, x.masses, x.dimensions) for x in st]
        try:
            row["U"] = [float(np.mean(lg[POTENTIAL_ENERGY_KEY])) for lg in read_logs(a)]
        except KeyError:
            row["U"] = None
        res.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("times", "Tkin", "U")}), flush=True)
    with open(f"{out}/pilot_{name}_{tag}.json", "w") as fh:
        json.dump(res, fh)
print("total", round(time.time() - t0, 1))
