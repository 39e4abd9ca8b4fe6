"""Why the age task's kinetic-temperature guard can measure a late t_K: its statistic is the last
frame at which the mean of R trajectories lies more than one single-sample σ_T from T_G, and that
mean fluctuates by σ_T/√R. The demo's build_dataset averages R = 4 (dataset.glass_replicas = 1
replica of each of 4 runs).
usage: python guard_noise.py DIR SYSTEM T_G — from the pilot JSONs in DIR: t_K over all the
trajectories and over each replica's 4 (one per run, as the demo's guard takes them); then a Monte
Carlo of the guard on the demo's frame times (aging 100 τ, 6 frames per decade, the system's dt):
the measured all-trajectory ⟨T_kin⟩(t) − T_G up to 10 τ, zero after, plus Gaussian noise σ_T/√R per
frame, for N of the pilot and N = 4096 (config.yaml's size, which the demo used for ss3d/ss2d before
config/demo.yaml set their sizes)."""
import glob
import json
import sys

import numpy as np

from glasscam.config.load import load_yaml
from glasscam.core.schedule import log_frame_times
from glasscam.core.tasks import (
    equilibrium_kinetic_temperature_sd,
    kinetic_relaxation_time,
)

directory, name, tg = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = []
for f in sorted(glob.glob(f"{directory}/pilot_{name}_*.json")):
    with open(f) as fh:
        rows += [r for r in json.load(fh) if r["T_G"] == tg]
n, d = rows[0]["N"], 3 if name.endswith("3d") else 2
times = np.array(rows[0]["times"]); tkin = np.array([r["Tkin"] for r in rows])
every = kinetic_relaxation_time(times, tkin, tg, n, d)
print(f"{name} T_G = {tg:g}, N = {n}: t_K = {every['time']:.4g} τ over all {len(rows)} trajectories")
for rep in sorted({r["replica"] for r in rows}):
    sel = [i for i, r in enumerate(rows) if r["replica"] == rep]
    m = kinetic_relaxation_time(times, tkin[sel], tg, n, d)
    late = np.array(m["excess_in_sigma"])[times > 10]
    print(f"  replica {rep} of each run ({len(sel)} trajectories): t_K = {m['time']:.4g} τ; "
          f"after 10 τ the mean lies {late.min():+.2f} … {late.max():+.2f} σ_T from T_G")
dt = float(load_yaml("config.yaml")["systems"][name]["dt"])
demo = log_frame_times(100.0, dt, 6)
excess = np.interp(demo, times, np.array(every["mean"]) - tg)
excess[demo > 10] = 0.0
rng = np.random.default_rng(20230801)
for size in (n, 4096):
    sigma = equilibrium_kinetic_temperature_sd(tg, size, d)
    for r in (4, 8):
        noisy = tg + excess + rng.normal(0.0, sigma / np.sqrt(r), (20000, len(demo)))
        tk = np.array([kinetic_relaxation_time(demo, row[None, :], tg, size, d)["time"] for row in noisy])
        print(f"  Monte Carlo N = {size}, R = {r}: median t_K = {np.median(tk):.3g} τ; P(t_K > 10.7 τ) = "
              f"{np.mean(tk > 10.8):.2f}, P(t_K ≥ 47.5 τ) = {np.mean(tk >= 47):.2f}, P(never) = {np.mean(np.isinf(tk)):.3f}")
