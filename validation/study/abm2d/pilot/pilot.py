"""abm2d N = 1000 aging pilot with glasscam's own stage functions (LAMMPS backend, 1 thread).
usage: python pilot.py RUN TG[,TG...]: melt (glasscam.stages.simulate.initialize, 10 τ at T = 8), liquid
150 τ at T_L = 6 (EQ), instantaneous quench to each T_G, REPL aging replicas of DUR τ (10 frames per
decade, as in the study); per replica the fraction of A particles with |Δr| > 0.5 (length unit
σ_AB = 1, the pipeline's threshold) and > 0.5 σ_AA = 0.4167, and the A MSD, in the ≈ 30 τ after the
frames nearest t_w = 0, 10, 30, 60, and T_kin per frame (for glasscam.core.tasks.kinetic_relaxation_time).
Run here (2026-11-29, ~21:44–21:51 UTC, seed 20230801 of config.yaml, so runs 0–4 share their melt
and aging seeds with the study's runs 0–4):
    EQ=150 REPL=4 python pilot.py {0,1} 0.5,1.0,1.5,2.0,2.5             (out = .../out, DUR = 60)
    EQ=150 REPL=4 DUR=100 python pilot.py {2,3} 1.0,1.5,2.0               (out = .../out100)
    EQ=150 REPL=4 DUR=100 python pilot.py 4 1.5,2.0                       (out = .../out100)
then liquid.py 2 30 6.0,4.0 (τα of the liquids) and summarize.py (→ pilot.csv)."""
import copy
import json
import os
import sys
import time

import numpy as np

from glasscam.analysis.displacement import window_displacement
from glasscam.config.load import load_yaml
from glasscam.io.gsd import read_states
from glasscam.md.protocols import kinetic_temperature
from glasscam.stages import simulate

out = os.environ.get("OUT", "/work/pilot_abm2d/out"); os.makedirs(out, exist_ok=True)
cfg = load_yaml(os.environ.get("GLASSCAM_CFG", "config.yaml"))  # YAML 1.2 numbers, as the pipeline reads them
sysc = copy.deepcopy(cfg["systems"]["abm2d"]); sysc["N"] = 1000; sysc["composition"] = {"A": 500, "B": 500}
prot = copy.deepcopy(cfg["protocol"]); prot.update(melt_time=10, equilibration_time=float(os.environ.get("EQ", 30)),
    liquid_samples=1, sample_interval=1.0)
prot["aging"] = {"duration": float(os.environ.get("DUR", 60)), "frames_per_decade": 10, "replicas": 2}
prot["liquid_dynamics"] = {"runs": 1, "duration": 30, "frames_per_decade": 10}
seed = cfg["seed"]; run = int(sys.argv[1]); tgs = [float(x) for x in sys.argv[2].split(",")]
TL = float(os.environ.get("TL", 6.0)); REPL = int(os.environ.get("REPL", 2))
t0 = time.time()
init = f"{out}/init_{run}.gsd"
if not os.path.exists(init):
    simulate.initialize(system_name="abm2d", system_cfg=sysc, protocol_cfg=prot, root_seed=seed, run=run, engine_name="lammps", threads=1, output=init)
liq = f"{out}/liquid_{run}_T{TL:g}.gsd"
if not os.path.exists(liq):
    simulate.equilibrate_liquid(system_name="abm2d", system_cfg=sysc, protocol_cfg=prot, root_seed=seed, run=run, temperature=TL, engine_name="lammps", threads=1, initial=init, output=liq)
print("liquid ready", time.time() - t0, flush=True)
for tg in tgs:
    s = copy.deepcopy(sysc); s["state_points"]["glass_temperature"] = tg
    q = f"{out}/quench_{run}_T{TL:g}_{tg:g}.gsd"
    simulate.quench(system_name="abm2d", system_cfg=s, protocol_cfg=prot, root_seed=seed, run=run, engine_name="lammps", threads=1, liquid=liq, output=q)
    res = []
    for r in range(REPL):
        a = f"{out}/aging_{run}_T{TL:g}_{tg:g}_{r}.gsd"
        t1 = time.time()
        if not os.path.exists(a):
            simulate.age(system_name="abm2d", system_cfg=s, protocol_cfg=prot, root_seed=seed, run=run, replica=r, engine_name="lammps", threads=1, quenched=q, output=a)
        st = read_states(a); times = np.array([x.time for x in st])
        amask = st[0].typeid == 0
        row = {"run": run, "replica": r, "T_L": TL, "T_G": tg, "wall_s": round(time.time() - t1, 1)}
        for tw in (0, 10, 30, 60):
            i = int(np.argmin(abs(times - tw))); j = int(np.argmin(abs(times - (times[i] + 30))))
            if times[i] + 30 > times[-1] + 1e-9: continue
            d = np.linalg.norm(window_displacement(st[i], st[j]), axis=1)[amask]
            row[f"tw{tw}"] = [float(times[i]), float(times[j] - times[i]),
                              float(np.mean(d > 0.5)), float(np.mean(d > 0.5 * 0.8333333333333334)), float(np.mean(d**2))]
        row["times"] = times.tolist()
        row["Tkin"] = [kinetic_temperature(x.velocities, x.masses, 2) for x in st]
        res.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("times", "Tkin")}), flush=True)
    json.dump(res, open(f"{out}/pilot_{run}_T{TL:g}_{tg:g}.json", "w"))
print("total", time.time() - t0)
