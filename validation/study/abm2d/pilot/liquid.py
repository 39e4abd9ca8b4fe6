"""τα of the abm2d liquids at N=1000: liquid_dynamics (30 τ, log frames) from the pilot's equilibrated liquids."""
import copy
import json
import os
import sys

from glasscam.config.load import load_yaml
from glasscam.stages import simulate
from glasscam.stages.dynamics import compute_liquid_relaxation

out = "/work/pilot_abm2d/out100"
cfg = load_yaml("config.yaml")  # YAML 1.2 numbers, as the pipeline reads them
sysc = copy.deepcopy(cfg["systems"]["abm2d"]); sysc["N"] = 1000; sysc["composition"] = {"A": 500, "B": 500}
prot = copy.deepcopy(cfg["protocol"]); prot.update(melt_time=10, equilibration_time=150.0, liquid_samples=1, sample_interval=1.0)
prot["liquid_dynamics"] = {"runs": 1, "duration": float(sys.argv[2]), "frames_per_decade": 10}
paths = []
run = int(sys.argv[1])
for T in [float(x) for x in sys.argv[3].split(",")]:
    liq = f"{out}/liquid_{run}_T{T:g}.gsd"
    if not os.path.exists(liq):
        simulate.equilibrate_liquid(system_name="abm2d", system_cfg=sysc, protocol_cfg=prot, root_seed=cfg["seed"], run=run, temperature=T, engine_name="lammps", threads=1, initial=f"{out}/init_{run}.gsd", output=liq)
    ld = f"{out}/liqdyn_{run}_T{T:g}.gsd"
    if not os.path.exists(ld):
        simulate.liquid_dynamics(system_name="abm2d", system_cfg=sysc, protocol_cfg=prot, root_seed=cfg["seed"], run=run, temperature=T, engine_name="lammps", threads=1, liquid=liq, output=ld)
    paths.append(ld)
compute_liquid_relaxation(trajectory_paths=paths, out_json=f"{out}/liquid_relaxation_{run}.json")
r = json.load(open(f"{out}/liquid_relaxation_{run}.json"))
for t in r["temperatures"]:
    print(t["temperature"], "q", round(t["q"], 2), {s: (v["tau_alpha"], v.get("D")) for s, v in t["species"].items()})
